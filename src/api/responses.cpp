// How every answer is shaped: JSON bodies, the error body and its status, the public view.
#include <boost/url/parse_query.hpp>

#include <cmath>

#include "api/application.hpp"
#include "api/json_codec.hpp"
#include "api/route_support.hpp"
#include "core/text.hpp"

namespace dinex::api {

using core::errc;
using core::error;

namespace detail {

std::optional<error> check_content_type(std::string_view value) {
    if (value.empty()) return std::nullopt;
    const auto semi = value.find(';');
    const std::string media = core::ascii_lower(core::trim_blanks(value.substr(0, semi)));
    const bool json =
        media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
    if (!json) {
        return error::field(errc::unsupported_media_type,
                            "Content-Type must be application/json, not " + media, "content-type",
                            "media_type:application/json");
    }
    if (semi != std::string_view::npos) {
        const std::string params = core::ascii_lower(value.substr(semi + 1));
        const auto cs = params.find("charset=");
        if (cs != std::string::npos) {
            std::string charset(core::trim_blanks(std::string_view(params).substr(cs + 8)));
            if (!charset.empty() && charset.front() == '"')
                charset = charset.substr(1, charset.find('"', 1) - 1);
            if (charset != "utf-8" && charset != "utf8") {
                return error::field(errc::unsupported_media_type, "the body must be UTF-8, not " + charset,
                                    "content-type", "charset:utf-8");
            }
        }
    }
    return std::nullopt;
}

std::string ignored_note_of(const std::vector<std::string>& ignored) {
    if (ignored.empty()) return {};
    std::string note = "ignored_fields:";
    for (std::size_t i = 0; i < ignored.size() && i < ignored_fields_listed; ++i) {
        if (i) note += ',';
        note += ignored[i];
    }
    return note;
}

std::string decoded(boost::urls::pct_string_view s) {
    boost::urls::encoding_opts opt;
    opt.space_as_plus = true;
    return s.decode(opt);
}

}  // namespace detail

void set_json(response& res, int status, std::string body) {
    res.status = status;
    res.body = std::move(body);
    res.set_header("content-type", std::string(detail::json_type));
    res.set_header("cache-control", "no-store");
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    auto params = boost::urls::parse_query(query);
    if (!params) return std::nullopt;
    for (const auto& p : *params) {
        if (detail::decoded(p.key) == name) return p.has_value ? detail::decoded(p.value) : std::string();
    }
    return std::nullopt;
}

int http_status(errc code) noexcept {
    switch (code) {
        case errc::invalid_argument: return 400;
        case errc::unprocessable: return 422;
        case errc::not_found: return 404;
        case errc::conflict: return 409;
        case errc::payload_too_large: return 413;
        case errc::unsupported_media_type: return 415;
        case errc::method_not_allowed: return 405;
        case errc::unavailable: return 503;
        case errc::internal: return 500;
        case errc::unauthenticated: return 401;
        case errc::permission_denied: return 403;
        case errc::resource_exhausted: return 429;
    }
    return 500;
}

core::error method_not_allowed(std::string_view allow) {
    // The original's words; the allowed methods are in `details` (and the Allow header).
    return error::field(errc::method_not_allowed, "Método no permitido", "method",
                        "one_of:" + std::string(allow));
}

response error_response(const error& e, std::string_view request_id, std::string_view tracking_id) {
    response res;
    set_json(res, http_status(e.code), encode_error(e, request_id, tracking_id));
    if (e.code == errc::unavailable) res.set_header("retry-after", "1");
    // The cause for the operator: the internal message, or for a 5xx without one the message.
    if (!e.internal_message.empty()) {
        res.log_note = e.internal_message;
    } else if (res.status >= 500) {
        res.log_note = e.message;
    }
    return res;
}

core::package public_view(core::package p) {
    auto coarse = [](std::optional<core::position>& pos) {
        if (!pos) return;
        pos->latitude = std::round(pos->latitude * 100.0) / 100.0;
        pos->longitude = std::round(pos->longitude * 100.0) / 100.0;
    };
    p.state.notes.reset();
    coarse(p.state.coordinates);
    for (auto& e : p.events) {
        e.notes.reset();
        coarse(e.coordinates);
    }
    return p;
}

std::optional<metrics_access> parse_metrics_access(std::string_view text) noexcept {
    if (text == "public") return metrics_access::open;
    if (text == "loopback") return metrics_access::loopback;
    if (text == "admin") return metrics_access::admin;
    if (text == "off") return metrics_access::off;
    return std::nullopt;
}

}  // namespace dinex::api

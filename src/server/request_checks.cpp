#include "server/request_checks.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <functional>
#include <iterator>

#include "core/text.hpp"

namespace dinex::server {
namespace beast = boost::beast;
namespace http = beast::http;

strict_parser::strict_parser(const beast::flat_buffer& input, const request_limits& limits)
    : input_(input),
      max_field_bytes_(limits.max_header_bytes),
      trailer_bytes_left_(limits.max_header_bytes) {}

void strict_parser::on_field_impl(http::field f, beast::string_view name, beast::string_view value,
                                  beast::error_code& ec) {
    const std::size_t size = name.size() + value.size();
    if (size > max_field_bytes_) {
        ec = http::error::header_limit;
        return;
    }
    if (is_header_done()) {
        if (size > trailer_bytes_left_) {
            ec = http::error::header_limit;
            return;
        }
        trailer_bytes_left_ -= size;
    }
    // Beast hands an unfolded value as a view of the input just after "name:" and blanks; a folded
    // one it joins into a buffer of its own (or, when the first line is empty, it starts after a CRLF).
    const char* begin = static_cast<const char*>(input_.data().data());
    const char* end = begin + input_.size();
    const char* v = value.data();
    const bool in_input = v != nullptr && std::less_equal<>{}(begin, v) && std::less_equal<>{}(v, end) &&
                          std::less_equal<>{}(name.data() + name.size(), v);
    if (!in_input) {
        if (!value.empty()) {
            ec = http::error::bad_obs_fold;
            return;
        }
    } else {
        for (const char* p = name.data() + name.size(); p < v; ++p) {
            if (*p == '\r' || *p == '\n') {
                ec = http::error::bad_obs_fold;
                return;
            }
        }
    }
    get().insert(f, name, value);
}

std::optional<rejection> check_head(const http::request<http::string_body>& head,
                                    const request_limits& limits) {
    if (head.target().size() > limits.max_target_bytes) {
        return rejection{
            414, "the request target is longer than " + std::to_string(limits.max_target_bytes) + " bytes",
            "target", "max_bytes:" + std::to_string(limits.max_target_bytes)};
    }
    std::size_t fields = 0;
    std::size_t hosts = 0;
    std::size_t encodings = 0;
    std::string_view encoding;
    for (const auto& f : head) {
        ++fields;
        if (f.name() == http::field::host) ++hosts;
        if (f.name() == http::field::transfer_encoding) {
            ++encodings;
            encoding = f.value();
        }
    }
    if (fields > limits.max_header_count) {
        return rejection{
            431, "the request has more than " + std::to_string(limits.max_header_count) + " header fields",
            "headers", "max_count:" + std::to_string(limits.max_header_count)};
    }
    const bool http10 = head.version() < 11;
    if (hosts > 1 || (hosts == 0 && !http10)) {
        return rejection{400, "an HTTP/1.1 request needs exactly one Host header field", "host",
                         "exactly_one"};
    }
    if (encodings > 0) {
        // Beast folds repeated fields into a list only when asked; two lines are two codings.
        if (encodings > 1 || !beast::iequals(core::trim_blanks(encoding), "chunked")) {
            return rejection{400, "Transfer-Encoding must be exactly chunked", "transfer-encoding",
                             "one_of:chunked"};
        }
        if (http10) {
            return rejection{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request",
                             "transfer-encoding", "not_allowed"};
        }
        if (head.find(http::field::content_length) != head.end()) {
            return rejection{400, "a request must not carry both Transfer-Encoding and Content-Length",
                             "content-length", "not_with:transfer-encoding"};
        }
    }
    return std::nullopt;
}

rejection rejection_of(const beast::error_code& ec, const request_limits& limits, std::size_t body_limit,
                       bool in_body) {
    if (ec == http::error::body_limit) {
        return rejection{413, "the body is larger than " + std::to_string(body_limit) + " bytes", "body",
                         "max_bytes:" + std::to_string(body_limit)};
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        if (in_body) {
            return rejection{431,
                             "the chunk framing or trailer fields are larger than " +
                                 std::to_string(limits.max_header_bytes) + " bytes",
                             "trailers", "max_bytes:" + std::to_string(limits.max_header_bytes)};
        }
        return rejection{
            431, "the request headers are larger than " + std::to_string(limits.max_header_bytes) + " bytes",
            "headers", "max_bytes:" + std::to_string(limits.max_header_bytes)};
    }
    return rejection{400, "the request is not valid HTTP/1.1: " + ec.message(), "request", "http"};
}

api::request to_request(http::request<http::string_body>& msg, std::string remote_address,
                        std::string request_id) {
    api::request req;
    req.method = std::string(msg.method_string());
    const std::string_view target = msg.target();
    const auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    req.headers.reserve(16);
    for (const auto& f : msg) {
        req.headers.push_back({core::ascii_lower(f.name_string()), std::string(f.value())});
    }
    req.body = std::move(msg.body());
    req.remote_address = std::move(remote_address);
    req.request_id = std::move(request_id);
    return req;
}

void serialize_response(std::string& out, const api::response& res, std::string_view request_id,
                        unsigned version, bool keep_alive, bool head) {
    const bool has_body = res.status != 204 && res.status != 304;
    out.clear();
    out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(res.status);
    out += ' ';
    out += http::obsolete_reason(static_cast<http::status>(res.status));
    out += "\r\n";
    bool nosniff = false;
    for (const auto& h : res.headers) {
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
        nosniff = nosniff || h.name == "x-content-type-options";
    }
    // Every answer carries it; the page sets it itself (its Lambda answers too), so once only.
    if (!nosniff) out += "x-content-type-options: nosniff\r\n";
    out += "x-request-id: ";
    out += request_id;
    out += "\r\n";
    if (has_body) {
        out += "content-length: ";
        out += std::to_string(res.body.size());
        out += "\r\n";
    }
    if (!keep_alive) {
        out += "connection: close\r\n";
    } else if (version == 10) {
        out += "connection: keep-alive\r\n";
    }
    out += "\r\n";
    if (has_body && !head) out += res.body;
}

}  // namespace dinex::server

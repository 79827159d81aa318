// GET /packages: the needs-attention listing, filtered by status and staleness, paged by cursor.
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <charconv>

#include "api/application.hpp"
#include "api/cursor.hpp"
#include "api/json_codec.hpp"
#include "api/route_support.hpp"
#include "core/text.hpp"

namespace dinex::api {

using core::errc;
using core::error;

namespace {

// The listing query, or every field that is wrong with it.
core::result<core::package_query> parse_listing_query(std::string_view query, core::millis now) {
    core::package_query q;
    q.limit = core::limits::list_default;
    std::vector<core::field_error> errors;
    const auto number = [&](std::string_view name, std::string_view text, long long lo,
                            long long hi) -> std::optional<long long> {
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
            errors.push_back({std::string(name), "range:" + std::to_string(lo) + ".." + std::to_string(hi)});
            return std::nullopt;
        }
        return v;
    };
    std::optional<long long> stale_hours;
    auto params = boost::urls::parse_query(query);
    if (!params)
        return core::fail(
            error::field(errc::invalid_argument, "the query string is malformed", "query", "format"));
    for (const auto& p : *params) {
        const std::string key = detail::decoded(p.key);
        const std::string value = detail::decoded(p.value);
        if (key == "status") {
            for (const auto item : core::split_list(value)) {
                const auto st = core::parse_status(core::ascii_upper(item));
                if (!st) {
                    errors.push_back({"status", "one_of:" + core::status_list()});
                    break;
                }
                if (std::find(q.statuses.begin(), q.statuses.end(), *st) == q.statuses.end())
                    q.statuses.push_back(*st);
            }
            if (q.statuses.empty() && (errors.empty() || errors.back().field != "status")) {
                errors.push_back({"status", "not_empty"});
            }
        } else if (key == "stale_hours") {
            stale_hours = number("stale_hours", value, 1, 8760);
        } else if (key == "limit") {
            if (auto v = number("limit", value, 1, static_cast<long long>(core::limits::list_max))) {
                q.limit = static_cast<std::size_t>(*v);
            }
        } else if (key == "cursor") {
            q.after = decode_cursor(value);
            if (!q.after) errors.push_back({"cursor", "opaque:from_next_cursor"});
        } else {
            errors.push_back({key, "unknown_parameter"});
        }
    }
    if (!errors.empty()) {
        std::string msg = "the listing query is invalid: ";
        const std::size_t listed = std::min(errors.size(), detail::max_listed_errors);
        for (std::size_t i = 0; i < listed; ++i) {
            if (i) msg += ", ";
            msg += errors[i].field + " (" + errors[i].rule + ")";
        }
        if (errors.size() > listed) {
            msg += " and " + std::to_string(errors.size() - listed) + " more";
            errors.resize(listed);
        }
        return core::fail(error::make(errc::invalid_argument, std::move(msg), std::move(errors)));
    }
    if (stale_hours) q.stale_before = now - *stale_hours * 3'600'000LL;
    return q;
}

}  // namespace

void application::list_packages(request& req, const call&, completion done) {
    auto q = parse_listing_query(req.query, service_.now());
    if (!q) return done(error_response(q.error(), req.request_id));
    auto page = service_.list_packages(std::move(*q));
    if (!page) return done(error_response(page.error(), req.request_id));
    const std::string next = page->next ? encode_cursor(*page->next) : std::string();
    response res;
    set_json(res, 200, encode_package_page(*page, next));
    done(std::move(res));
}

}  // namespace dinex::api

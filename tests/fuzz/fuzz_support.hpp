#pragma once
// Shared by the fuzz targets: an invariant check that aborts (so libFuzzer saves the input), and
// the checker for the documented error shape {"error":message,"code","details","request_id"[,"tracking_id"]}.
#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/application.hpp"
#include "api/json_codec.hpp"
#include "core/error.hpp"

namespace dinex::fuzz {

[[noreturn]] inline void violated(const char* file, int line, const char* cond, std::string_view detail) {
    std::fprintf(stderr, "\n*** fuzz invariant violated at %s:%d: %s\n", file, line, cond);
    if (!detail.empty()) {
        std::fprintf(stderr, "*** %.*s\n", static_cast<int>(std::min<std::size_t>(detail.size(), 4000)),
                     detail.data());
    }
    std::abort();
}

#define FUZZ_CHECK(cond, detail)                                                   \
    do {                                                                           \
        if (!(cond)) ::dinex::fuzz::violated(__FILE__, __LINE__, #cond, (detail)); \
    } while (false)

// The wire names of core::errc, in enum order (api::encode_error writes them). Keep in step
// with core/error.hpp: a code missing here fails the error-shape check.
inline constexpr std::array<std::string_view, 12> error_codes = {
    "invalid_argument",  "unprocessable_entity",   "not_found",          "conflict",
    "payload_too_large", "unsupported_media_type", "method_not_allowed", "unavailable",
    "internal",          "unauthenticated",        "permission_denied",  "resource_exhausted"};

inline boost::json::value parse_json(std::string_view text, std::string_view what) {
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    FUZZ_CHECK(!ec, std::string(what) + " is not JSON (" + ec.message() + "): " + std::string(text));
    return v;
}

inline std::string_view str(const boost::json::value& v) {
    const auto& s = v.get_string();
    return {s.data(), s.size()};
}

// Checks an encoded error: exact key set, types, a known code that maps to `status` through
// api::http_status, and the request id echoed. Returns the parsed document.
inline boost::json::value check_error_body(std::string_view body, int status, std::string_view request_id) {
    boost::json::value doc = parse_json(body, "error body");
    const std::string b(body);
    FUZZ_CHECK(doc.is_object(), b);
    const auto& o = doc.get_object();
    const bool echoes_id = o.contains("tracking_id");
    FUZZ_CHECK(o.size() == (echoes_id ? 5U : 4U), b);
    FUZZ_CHECK(o.contains("error") && o.contains("code") && o.contains("details") && o.contains("request_id"),
               b);
    FUZZ_CHECK(!echoes_id || (o.at("tracking_id").is_string() && status == 404), b);
    FUZZ_CHECK(o.at("request_id").is_string() && str(o.at("request_id")) == request_id, b);
    // `error` is the message, a string, as the original service answered it.
    FUZZ_CHECK(o.at("error").is_string() && !o.at("error").get_string().empty(), b);
    FUZZ_CHECK(o.at("code").is_string() && o.at("details").is_array(), b);
    bool known = false;
    for (std::size_t i = 0; i < error_codes.size(); ++i) {
        if (str(o.at("code")) == error_codes[i]) {
            known = true;
            FUZZ_CHECK(api::http_status(static_cast<core::errc>(i)) == status,
                       "status " + std::to_string(status) + " for " + b);
        }
    }
    FUZZ_CHECK(known, b);
    for (const auto& d : o.at("details").get_array()) {
        FUZZ_CHECK(d.is_object() && d.get_object().size() == 2, b);
        FUZZ_CHECK(d.get_object().contains("field") && d.get_object().at("field").is_string(), b);
        FUZZ_CHECK(d.get_object().contains("rule") && d.get_object().at("rule").is_string(), b);
    }
    return doc;
}

// The same, for a core::error before encoding: the encoded form must carry exactly its details.
inline void check_encoded_error(const core::error& err, std::string_view request_id) {
    const std::string body = api::encode_error(err, request_id);
    const auto doc = check_error_body(body, api::http_status(err.code), request_id);
    const auto& o = doc.get_object();
    FUZZ_CHECK(str(o.at("error")) == err.message, body);
    const auto& details = o.at("details").get_array();
    FUZZ_CHECK(details.size() == err.details.size(), body);
    for (std::size_t i = 0; i < details.size(); ++i) {
        FUZZ_CHECK(str(details[i].at("field")) == err.details[i].field, body);
        FUZZ_CHECK(str(details[i].at("rule")) == err.details[i].rule, body);
    }
}

}  // namespace dinex::fuzz

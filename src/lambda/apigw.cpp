#include "lambda/apigw.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <utility>
#include <vector>

#include "core/text.hpp"
#include "text/json_string.hpp"

namespace dinex::lambda {
namespace json = boost::json;

namespace {

std::unexpected<event_error> invalid(std::string message) {
    return std::unexpected(event_error{"InvalidEvent", std::move(message)});
}

// A string member, or nullptr when it is absent or not a string.
const json::string* string_member(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v ? v->if_string() : nullptr;
}

const json::object* object_member(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

bool is_null_or_absent(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v == nullptr || v->is_null();
}

}  // namespace

std::expected<std::string, std::string> base64_decode(std::string_view in) {
    std::size_t len = in.size();
    std::size_t pad = 0;
    while (len > 0 && in[len - 1] == '=' && pad < 2) {
        --len;
        ++pad;
    }
    if (pad > 0 && in.size() % 4 != 0) return std::unexpected("base64 padding is wrong");
    if (len % 4 == 1) return std::unexpected("base64 length is impossible");
    std::string out(boost::beast::detail::base64::decoded_size(len) + 3, '\0');
    const auto [written, read] = boost::beast::detail::base64::decode(out.data(), in.data(), len);
    if (read != len) return std::unexpected("body is not valid base64");
    out.resize(written);
    return out;
}

std::expected<api::request, event_error> decode_event(std::string_view payload) {
    json::error_code ec;
    json::value doc = json::parse(payload, ec);
    if (ec) return invalid("the event is not JSON: " + ec.message());
    const auto* event = doc.if_object();
    if (!event) return invalid("the event is not a JSON object");

    const auto* version = string_member(*event, "version");
    if (!version) return invalid("the event has no version: only API Gateway HTTP API payload 2.0 is served");
    if (*version != "2.0")
        return invalid("unsupported payload version " + std::string(*version) + ": expected 2.0");

    const auto* context = object_member(*event, "requestContext");
    if (!context) return invalid("requestContext is missing or not an object");
    const auto* http = object_member(*context, "http");
    if (!http) return invalid("requestContext.http is missing or not an object");
    const auto* method = string_member(*http, "method");
    if (!method || method->empty()) return invalid("requestContext.http.method is missing or not a string");
    const auto* raw_path = string_member(*event, "rawPath");
    if (!raw_path || raw_path->empty() || raw_path->front() != '/') {
        return invalid("rawPath is missing or not an absolute path");
    }

    api::request req;
    req.method = std::string(*method);
    for (char& c : req.method) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    req.path = std::string(*raw_path);

    if (!is_null_or_absent(*event, "rawQueryString")) {
        const auto* q = string_member(*event, "rawQueryString");
        if (!q) return invalid("rawQueryString is not a string");
        req.query = std::string(*q);
    }

    if (!is_null_or_absent(*event, "headers")) {
        const auto* headers = object_member(*event, "headers");
        if (!headers) return invalid("headers is not an object");
        req.headers.reserve(headers->size() + 1);
        for (const auto& [name, value] : *headers) {
            const auto* s = value.if_string();
            if (!s) return invalid("header " + std::string(name) + " is not a string");
            // API Gateway already lower-cases names; a test event may not, and the router expects it.
            req.headers.push_back({core::ascii_lower(name), std::string(*s)});
        }
    }

    if (!is_null_or_absent(*event, "cookies")) {
        const auto* cookies = event->at("cookies").if_array();
        if (!cookies) return invalid("cookies is not an array");
        std::string joined;
        for (const auto& c : *cookies) {
            const auto* s = c.if_string();
            if (!s) return invalid("a cookie is not a string");
            if (!joined.empty()) joined += "; ";
            joined.append(s->data(), s->size());
        }
        if (!joined.empty()) {
            std::erase_if(req.headers, [](const api::header& h) { return h.name == "cookie"; });
            req.headers.push_back({"cookie", std::move(joined)});
        }
    }

    bool base64 = false;
    if (!is_null_or_absent(*event, "isBase64Encoded")) {
        const auto* b = event->at("isBase64Encoded").if_bool();
        if (!b) return invalid("isBase64Encoded is not a boolean");
        base64 = *b;
    }
    if (!is_null_or_absent(*event, "body")) {
        const auto* body = string_member(*event, "body");
        if (!body) return invalid("body is not a string");
        if (base64) {
            auto decoded = base64_decode(*body);
            if (!decoded) return invalid(decoded.error());
            req.body = std::move(*decoded);
        } else {
            req.body = std::string(*body);
        }
    }

    if (const auto* id = string_member(*context, "requestId")) req.request_id = std::string(*id);
    if (const auto* ip = string_member(*http, "sourceIp")) req.remote_address = std::string(*ip);
    return req;
}

std::string encode_response(const api::response& res, std::string_view request_id) {
    // Merge repeated names (case-insensitive) into one value joined with ", ", keeping first order.
    std::vector<std::pair<std::string, std::string>> merged;
    merged.reserve(res.headers.size() + 2);
    auto add = [&merged](std::string_view name, std::string_view value) {
        const std::string key = core::ascii_lower(name);
        for (auto& [n, v] : merged) {
            if (n == key) {
                v += ", ";
                v += value;
                return;
            }
        }
        merged.emplace_back(key, std::string(value));
    };
    for (const auto& h : res.headers) add(h.name, h.value);
    std::erase_if(merged, [](const auto& p) {
        return p.first == "x-request-id" || p.first == "x-content-type-options";
    });
    merged.emplace_back("x-content-type-options", "nosniff");
    merged.emplace_back("x-request-id", std::string(request_id));

    std::string out;
    out.reserve(res.body.size() + 64 * merged.size() + 64);
    out += "{\"statusCode\":";
    out += std::to_string(res.status);
    out += ",\"headers\":{";
    bool first = true;
    for (const auto& [n, v] : merged) {
        if (!first) out += ',';
        first = false;
        out += '"';
        text::append_json_escaped(out, n);
        out += "\":\"";
        text::append_json_escaped(out, v);
        out += '"';
    }
    out += "},\"body\":\"";
    if (text::valid_utf8(res.body)) {
        text::append_json_escaped(out, res.body);
        out += "\",\"isBase64Encoded\":false}";
    } else {  // binary (an embedded image): JSON strings cannot carry it raw
        std::string encoded(boost::beast::detail::base64::encoded_size(res.body.size()), '\0');
        encoded.resize(
            boost::beast::detail::base64::encode(encoded.data(), res.body.data(), res.body.size()));
        out += encoded;
        out += "\",\"isBase64Encoded\":true}";
    }
    return out;
}

}  // namespace dinex::lambda

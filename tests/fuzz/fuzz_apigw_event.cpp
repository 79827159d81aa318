// fuzz_apigw_event: the Lambda invocation payload (API Gateway HTTP API, payload format 2.0).
// Checks (abort on violation):
//  - decode_event either refuses with errorType "InvalidEvent" and a message, or gives a request
//    with an upper-case method, an absolute path and lower-case header names (at most one cookie);
//  - a decoded request re-encodes without loss: written back as a 2.0 event (body in base64) and
//    decoded again it is the same request;
//  - the decoded request, run through application::handle (memory store), answers exactly once,
//    and encode_response of that answer is a JSON object {statusCode, headers, body,
//    isBase64Encoded} whose body decodes back to the answer's bytes;
//  - encode_response of a fixed request's answer whose body is the raw input (any bytes, binary
//    included) is JSON too and gives the same bytes back (base64 when not UTF-8).
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../support/fakes.hpp"
#include "api/application.hpp"
#include "fuzz_support.hpp"
#include "lambda/apigw.hpp"
#include "store/memory/memory_store.hpp"

namespace {
using namespace dinex;
namespace json = boost::json;
namespace b64 = boost::beast::detail::base64;

struct world {
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    core::tracking_service service{store, clock, ids};
    api::application app{service,
                         api::app_config{.version = "fuzz", .cors_origins = {"https://shop.example"}}};
};

std::string base64(std::string_view s) {
    std::string out(b64::encoded_size(s.size()), '\0');
    out.resize(b64::encode(out.data(), s.data(), s.size()));
    return out;
}

std::string reencode(const api::request& r) {
    json::object headers;
    for (const auto& h : r.headers) headers[h.name] = h.value;
    json::object http{{"method", r.method}};
    if (!r.remote_address.empty()) http["sourceIp"] = r.remote_address;
    json::object context{{"http", std::move(http)}};
    if (!r.request_id.empty()) context["requestId"] = r.request_id;
    json::object event{{"version", "2.0"},
                       {"rawPath", r.path},
                       {"rawQueryString", r.query},
                       {"headers", std::move(headers)},
                       {"requestContext", std::move(context)},
                       {"isBase64Encoded", true},
                       {"body", base64(r.body)}};
    return json::serialize(event);
}

bool duplicate_names(const api::request& r) {
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
        for (std::size_t j = i + 1; j < r.headers.size(); ++j) {
            if (r.headers[i].name == r.headers[j].name) return true;
        }
    }
    return false;
}

void check_request(const api::request& r, std::string_view payload) {
    const std::string p(payload);
    FUZZ_CHECK(!r.method.empty(), p);
    for (const char c : r.method) FUZZ_CHECK(!(c >= 'a' && c <= 'z'), p);
    FUZZ_CHECK(!r.path.empty() && r.path.front() == '/', p);
    int cookies = 0;
    for (const auto& h : r.headers) {
        for (const char c : h.name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), p);
        cookies += h.name == "cookie";
    }
    if (duplicate_names(r)) return;  // {"A":..,"a":..}: a JSON object cannot say that twice
    FUZZ_CHECK(cookies <= 1, p);
    const std::string again = reencode(r);
    auto back = lambda::decode_event(again);
    FUZZ_CHECK(back.has_value(),
               "re-encoded event refused: " + (back ? "" : back.error().message) + "\n" + again);
    FUZZ_CHECK(back->method == r.method && back->path == r.path && back->query == r.query, again);
    FUZZ_CHECK(back->body == r.body && back->request_id == r.request_id, again);
    FUZZ_CHECK(back->remote_address == r.remote_address, again);
    FUZZ_CHECK(back->headers.size() == r.headers.size(), again);
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
        FUZZ_CHECK(back->headers[i].name == r.headers[i].name && back->headers[i].value == r.headers[i].value,
                   again);
    }
}

// encode_response must give API Gateway a JSON object it can read back into the same answer.
void check_encoded_response(const api::response& res, std::string_view request_id) {
    const std::string out = lambda::encode_response(res, request_id);
    const auto doc = fuzz::parse_json(out, "encode_response");
    FUZZ_CHECK(doc.is_object() && doc.get_object().size() == 4, out);
    const auto& o = doc.get_object();
    FUZZ_CHECK(o.at("statusCode").is_int64() && o.at("statusCode").as_int64() == res.status, out);
    FUZZ_CHECK(o.at("headers").is_object(), out);
    for (const auto& [name, value] : o.at("headers").get_object()) {
        FUZZ_CHECK(value.is_string(), out);
        for (const char c : std::string_view(name)) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), out);
    }
    FUZZ_CHECK(o.at("headers").get_object().contains("x-request-id") &&
                   fuzz::str(o.at("headers").at("x-request-id")) == request_id,
               out);
    FUZZ_CHECK(o.at("body").is_string() && o.at("isBase64Encoded").is_bool(), out);
    const std::string_view body = fuzz::str(o.at("body"));
    if (o.at("isBase64Encoded").get_bool()) {
        auto raw = lambda::base64_decode(body);
        FUZZ_CHECK(raw.has_value() && *raw == res.body, out);
    } else {
        FUZZ_CHECK(body == res.body, out);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view payload(reinterpret_cast<const char*>(data), size);
    auto req = lambda::decode_event(payload);
    if (!req) {
        FUZZ_CHECK(req.error().type == "InvalidEvent" && !req.error().message.empty(), std::string(payload));
    } else {
        check_request(*req, payload);
        const std::string request_id = req->request_id;
        world w;  // fresh per input, so a crash reproduces from its input alone
        int calls = 0;
        api::response res;
        w.app.handle(std::move(*req), [&](api::response r) {
            ++calls;
            res = std::move(r);
        });
        FUZZ_CHECK(calls == 1, std::string(payload));
        FUZZ_CHECK(res.status >= 200 && res.status < 600 && res.status != 500,
                   std::to_string(res.status) + res.body);
        check_encoded_response(res, request_id);
    }

    // A fixed request whose answer carries the input as its body: any bytes must survive.
    api::response res;
    res.status = 200;
    res.set_header("Content-Type", "application/octet-stream");
    res.set_header("X-Request-Id", "stale");
    res.set_header("vary", "Origin");
    res.set_header("Vary", "Accept");
    res.body = std::string(payload);
    check_encoded_response(res, "req-fixed");
    return 0;
}

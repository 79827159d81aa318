// The API Gateway HTTP API payload 2.0 codec: events in, responses out, and every malformed event
// refused as a value (never a crash).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "lambda/apigw.hpp"
#include "lambda/runtime_client.hpp"

namespace dinex::lambda {
namespace {
namespace json = boost::json;

std::string event(std::string_view extra = {}) {
    std::string e = R"({"version":"2.0","routeKey":"$default","rawPath":"/dev/tracking",
        "rawQueryString":"tracking_id=TRK001&x=%20y",
        "headers":{"content-type":"application/json","x-forwarded-for":"203.0.113.7"},
        "requestContext":{"requestId":"abc-123","http":{"method":"post","path":"/dev/tracking","sourceIp":"203.0.113.7"}})";
    e += extra;
    e += "}";
    return e;
}

TEST(ApigwDecode, MapsEveryField) {
    auto req = decode_event(event(R"(,"body":"{\"a\":1}","isBase64Encoded":false,"cookies":["a=1","b=2"])"));
    ASSERT_TRUE(req) << req.error().message;
    EXPECT_EQ(req->method, "POST");
    EXPECT_EQ(req->path, "/dev/tracking");
    EXPECT_EQ(req->query, "tracking_id=TRK001&x=%20y");
    EXPECT_EQ(req->body, R"({"a":1})");
    EXPECT_EQ(req->request_id, "abc-123");
    EXPECT_EQ(req->remote_address, "203.0.113.7");
    EXPECT_EQ(req->header_value("content-type"), "application/json");
    EXPECT_EQ(req->header_value("cookie"), "a=1; b=2");
}

TEST(ApigwDecode, Base64Body) {
    auto req = decode_event(event(R"(,"body":"eyJhIjoxfQ==","isBase64Encoded":true)"));
    ASSERT_TRUE(req) << req.error().message;
    EXPECT_EQ(req->body, R"({"a":1})");
    auto unpadded = decode_event(event(R"(,"body":"eyJhIjoxfQ","isBase64Encoded":true)"));
    ASSERT_TRUE(unpadded);
    EXPECT_EQ(unpadded->body, R"({"a":1})");
}

TEST(ApigwDecode, OptionalFieldsMayBeAbsentOrNull) {
    auto req = decode_event(
        R"({"version":"2.0","rawPath":"/health","rawQueryString":"","headers":null,"body":null,
            "requestContext":{"http":{"method":"GET"}}})");
    ASSERT_TRUE(req) << req.error().message;
    EXPECT_EQ(req->method, "GET");
    EXPECT_TRUE(req->body.empty());
    EXPECT_TRUE(req->headers.empty());
}

TEST(ApigwDecode, RefusesMalformedEvents) {
    const char* bad[] = {
        "",
        "not json",
        "[1,2]",
        "\"x\"",
        "null",
        R"({"version":"1.0","httpMethod":"GET","path":"/health","requestContext":{}})",
        R"({"httpMethod":"GET","path":"/health"})",
        R"({"version":"2.0","rawPath":"/health"})",
        R"({"version":"2.0","rawPath":"/health","requestContext":{}})",
        R"({"version":"2.0","rawPath":"/health","requestContext":{"http":{"method":1}}})",
        R"({"version":"2.0","rawPath":"health","requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":7,"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","headers":{"a":1},"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","headers":[],"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","cookies":"a=1","requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","cookies":[1],"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","body":{},"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","body":"@@","isBase64Encoded":true,"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","body":"abc","isBase64Encoded":"yes","requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","rawQueryString":5,"requestContext":{"http":{"method":"GET"}}})",
        R"({"version":"2.0","rawPath":"/h","requestContext":{"http":{"method":"GET"}})",
    };
    for (const char* e : bad) {
        auto req = decode_event(e);
        EXPECT_FALSE(req) << e;
        if (!req) {
            EXPECT_EQ(req.error().type, "InvalidEvent");
            EXPECT_FALSE(req.error().message.empty());
        }
    }
}

TEST(ApigwEncode, ResponseShapeJoinsHeadersAndAddsRequestId) {
    api::response res;
    res.status = 201;
    res.set_header("content-type", "application/json");
    res.set_header("Vary", "Origin");
    res.set_header("vary", "Accept");
    res.body = R"({"msg":"quote \" and newline \n ñ"})";
    const auto doc = json::parse(encode_response(res, "rid-1")).as_object();
    EXPECT_EQ(doc.at("statusCode").as_int64(), 201);
    EXPECT_FALSE(doc.at("isBase64Encoded").as_bool());
    EXPECT_EQ(doc.at("body").as_string(), res.body);
    const auto& h = doc.at("headers").as_object();
    EXPECT_EQ(h.at("vary").as_string(), "Origin, Accept");
    EXPECT_EQ(h.at("x-request-id").as_string(), "rid-1");
    EXPECT_EQ(h.at("content-type").as_string(), "application/json");
    EXPECT_EQ(doc.size(), 4U);
}

TEST(ApigwEncode, BinaryBodyIsBase64) {
    api::response res;
    res.body = std::string("\x89PNG\r\n\x1a\n\xff", 9);
    const auto doc = json::parse(encode_response(res, "r")).as_object();
    EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());
    auto back = base64_decode(std::string(doc.at("body").as_string()));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, res.body);
}

// Found by tests/fuzz/fuzz_apigw_event: bytes that only look like UTF-8 (above U+10FFFF, a
// surrogate, an overlong form) went out raw, and API Gateway cannot parse such a response.
TEST(ApigwEncode, IllFormedUtf8BodyIsBase64) {
    for (const std::string body : {"\xf4\xbb\x80\x9c!", "\xed\xa0\x80", "\xe0\x80\xaf", "\xf0\x80\x80\xaf"}) {
        api::response res;
        res.body = body;
        const std::string out = encode_response(res, "r");
        json::error_code ec;
        const auto doc = json::parse(out, ec);
        ASSERT_FALSE(ec) << out;
        EXPECT_TRUE(doc.at("isBase64Encoded").as_bool());
        EXPECT_EQ(base64_decode(std::string(doc.at("body").as_string())).value_or(""), body);
    }
    api::response text;
    text.body = "Ñuñoa \xf0\x9f\x9a\x9a \xf4\x8f\xbf\xbf";
    EXPECT_FALSE(json::parse(encode_response(text, "r")).at("isBase64Encoded").as_bool());
}

TEST(Base64, StrictDecoding) {
    EXPECT_EQ(base64_decode("").value(), "");
    EXPECT_EQ(base64_decode("Zg==").value(), "f");
    EXPECT_EQ(base64_decode("Zm8=").value(), "fo");
    EXPECT_EQ(base64_decode("Zm9v").value(), "foo");
    EXPECT_FALSE(base64_decode("Zm9v!"));
    EXPECT_FALSE(base64_decode("Z"));
    EXPECT_FALSE(base64_decode("Zg="));
    EXPECT_FALSE(base64_decode("Z=g="));
}

TEST(RuntimeErrorBody, IsTheDocumentedShape) {
    const auto doc = json::parse(error_body("InvalidEvent", "bad \"x\"")).as_object();
    EXPECT_EQ(doc.at("errorType").as_string(), "InvalidEvent");
    EXPECT_EQ(doc.at("errorMessage").as_string(), "bad \"x\"");
    EXPECT_TRUE(doc.at("stackTrace").as_array().empty());
}

}  // namespace
}  // namespace dinex::lambda

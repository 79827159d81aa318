#pragma once
// API Gateway HTTP API (payload format 2.0) events ⇄ api::request / api::response.
// Pure functions: no I/O, so they are tested in microseconds (tests/lambda/apigw_test.cpp).
#include <expected>
#include <string>
#include <string_view>

#include "api/http.hpp"

namespace dinex::lambda {

// Why an event could not be decoded: errorType for the Runtime API, and a message for the log.
struct event_error {
    std::string type = "InvalidEvent";
    std::string message;
};

// Decodes one invocation payload. Anything that is not a well-formed payload 2.0 HTTP event
// (not JSON, not an object, version 1.0, missing or mistyped fields, bad base64) is an error.
std::expected<api::request, event_error> decode_event(std::string_view payload);

// Encodes the response API Gateway expects from a 2.0 integration. Multi-value headers are joined
// with ", "; `request_id` goes into X-Request-Id, as the HTTP server does.
std::string encode_response(const api::response& res, std::string_view request_id);

// Strict RFC 4648 base64 (padding optional); nullopt-like error when a character is not base64.
std::expected<std::string, std::string> base64_decode(std::string_view in);

}  // namespace dinex::lambda

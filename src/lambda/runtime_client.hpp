#pragma once
// A client of the Lambda Runtime API (version 2018-06-01) over plain HTTP/1.1 to
// AWS_LAMBDA_RUNTIME_API, on one keep-alive connection. Beast stays inside the .cpp.
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace dinex::lambda {

struct invocation {
    std::string request_id;        // Lambda-Runtime-Aws-Request-Id
    std::int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms (Unix epoch, ms)
    std::string function_arn;      // Lambda-Runtime-Invoked-Function-Arn
    std::string trace_id;          // Lambda-Runtime-Trace-Id (may be empty)
    std::string payload;           // the event
};

// A failed call: the HTTP status the Runtime API answered (0 when the connection failed) and why.
struct runtime_error {
    int status = 0;
    std::string message;
};

class runtime_client {
public:
    // endpoint: "host:port" (the value of AWS_LAMBDA_RUNTIME_API).
    explicit runtime_client(const std::string& endpoint);
    ~runtime_client();
    runtime_client(const runtime_client&) = delete;
    runtime_client& operator=(const runtime_client&) = delete;

    // Long poll: blocks, with no read timeout, until Lambda hands over the next event.
    std::expected<invocation, runtime_error> next();
    std::expected<void, runtime_error> post_response(std::string_view request_id, std::string body);
    std::expected<void, runtime_error> post_error(std::string_view request_id, std::string_view error_type,
                                                  std::string_view message);
    std::expected<void, runtime_error> post_init_error(std::string_view error_type, std::string_view message);

    // Lambda's payload cap is 6 MB.
    static constexpr std::size_t max_event_bytes = std::size_t{7} * 1024 * 1024;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The JSON body the error endpoints take: {"errorMessage","errorType","stackTrace":[]}.
std::string error_body(std::string_view error_type, std::string_view message);

}  // namespace dinex::lambda

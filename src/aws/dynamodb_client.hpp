#pragma once
// DynamoDB over its JSON 1.0 protocol: POST / with X-Amz-Target: DynamoDB_20120810.<Operation>,
// signed with SigV4 (service "dynamodb"), retried with backoff and jitter when the classifier says
// retrying can help.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/aws_error.hpp"
#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"

namespace dinex::aws {

// What DynamoDB says one call consumed (`ReturnConsumedCapacity: TOTAL`, summed over tables):
// read units for reads, write units for writes.
struct consumed_capacity {
    double read_units = 0;
    double write_units = 0;
};

struct dynamodb_options {
    service_config service;  // credentials, region, endpoint
    http_client_options http;
    // Sends the requests; when empty, an http_client made from `http` does.
    http_send send;
    retry_policy retry;
    sleep_function sleep = real_sleep();
    // The signing time; injectable for tests.
    std::function<std::chrono::system_clock::time_point()> now = [] {
        return std::chrono::system_clock::now();
    };
    // Told the capacity of every answered data call (each asks for it); may be empty.
    std::function<void(std::string_view operation, const consumed_capacity&)> on_capacity;
};

class dynamodb_client {
public:
    explicit dynamodb_client(dynamodb_options options);

    // One operation ("GetItem", "TransactWriteItems", ...), retried on retryable errors. The value
    // is the parsed answer (an object; {} for operations that answer nothing).
    std::expected<boost::json::value, aws_error> call(std::string_view operation,
                                                      const boost::json::object& body);
    // Every item operation asks DynamoDB for its consumed capacity (TOTAL) and reports it to
    // options().on_capacity. A single attempt, no retry (for tests and for callers that retry themselves).
    std::expected<boost::json::value, aws_error> call_once(std::string_view operation,
                                                           const boost::json::object& body);

    const dynamodb_options& options() const noexcept { return options_; }

private:
    dynamodb_options options_;
    std::unique_ptr<http_client> http_;  // when options_.send was empty
    http_send send_;
    backoff backoff_;
};

}  // namespace dinex::aws

#pragma once
// The SNS adapter of core::notifier: one `Publish` per notification over the SNS Query protocol
// (POST /, application/x-www-form-urlencoded, Version 2010-03-31), signed with SigV4 (service
// "sns"), answers in XML. Errors go through the one AWS classifier (aws/aws_error.hpp) and
// retryable ones (transport, throttling, 5xx) are retried with the shared backoff policy.
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
#include "core/ports.hpp"
#include "notify/message.hpp"

namespace dinex::notify {

inline constexpr std::size_t max_subject_chars = 100;  // SNS refuses longer subjects

struct sns_options {
    aws::service_config service;  // credentials, region, endpoint
    std::string topic_arn;        // SNS_TOPIC
    aws::http_client_options http;
    // Sends the requests; when empty, an http_client made from `http` does.
    aws::http_send send;
    aws::retry_policy retry;
    aws::sleep_function sleep = aws::real_sleep();
    std::function<std::chrono::system_clock::time_point()> now = [] {
        return std::chrono::system_clock::now();
    };
};

// SNS_TOPIC (the topic ARN) plus the usual AWS settings; endpoint from AWS_ENDPOINT_URL_SNS, then
// AWS_ENDPOINT_URL, else https://sns.<region>.amazonaws.com. The error names what is missing.
std::expected<sns_options, std::string> sns_options_from_environment(const aws::env_lookup& env = nullptr);

// "Tracking update: TRK001 is IN_TRANSIT": printable ASCII only (others become '?'), at most
// 100 characters, as SNS requires of a Subject.
std::string subject(const core::notification& n);
// application/x-www-form-urlencoded as botocore writes it (Python's urlencode): space as '+', every
// other byte outside A-Za-z0-9-._~ as %XX. AWS signs the raw bytes, so any valid encoding is
// accepted there; moto re-encodes the parsed form this way before checking the signature.
std::string form_encode(std::string_view text);
// The whole request body of one Publish, in a fixed parameter order (so tests can pin the bytes):
// Action, Version, TopicArn, Subject, Message, MessageAttributes status then tracking_id.
std::string publish_form(const core::notification& n, std::string_view topic_arn);
// The MessageId of a PublishResponse; a non-200 answer is classified (XML ErrorResponse).
std::expected<std::string, aws::aws_error> parse_publish_answer(int http_status, std::string_view body);

class sns_publisher final : public core::notifier {
public:
    explicit sns_publisher(sns_options options);

    std::string_view backend_name() const noexcept override { return "sns"; }
    // Retries retryable errors; a failure is `unavailable` (retryable) or `internal`, with the AWS
    // error in internal_message.
    core::result<void> publish(const core::notification& n) override;

    // With retries / one attempt; the value is SNS's MessageId.
    std::expected<std::string, aws::aws_error> publish_message(const core::notification& n);
    std::expected<std::string, aws::aws_error> publish_once(const core::notification& n);

    const sns_options& options() const noexcept { return options_; }

private:
    sns_options options_;
    std::unique_ptr<aws::http_client> http_;  // when options_.send was empty
    aws::http_send send_;
    aws::backoff backoff_;
};

}  // namespace dinex::notify

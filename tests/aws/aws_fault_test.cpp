// The DynamoDB client's retries, driven through the fake at the HTTP seam (tests/support): what is
// retried, how often, that every attempt is signed and sent whole, and what comes back when the
// attempts are used up. No network, no sleeping.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <vector>

#include "../support/fake_aws_http.hpp"
#include "aws/dynamodb_client.hpp"

namespace dinex {
namespace {

using testing::fake_aws_http;
using testing::header_of;

const auto throttled = fake_aws_http::status(
    400,
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})");
const auto server_error =
    fake_aws_http::status(500, R"({"__type":"com.amazon.coral.service#InternalServerError"})");
const auto unavailable =
    fake_aws_http::status(503, R"({"__type":"com.amazon.coral.availability#ServiceUnavailable"})");
const auto tables = fake_aws_http::status(200, R"({"TableNames":["tracking"]})");

struct client_fixture : ::testing::Test {
    fake_aws_http http{tables};
    std::vector<std::chrono::milliseconds> sleeps;

    aws::dynamodb_client client(int max_attempts = 5) {
        aws::dynamodb_options o;
        o.service.creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        o.service.region = "eu-central-2";
        o.service.endpoint = "http://localhost:8000";
        o.retry.max_attempts = max_attempts;
        o.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
        o.now = [] {
            return std::chrono::sys_days{std::chrono::year{2026} / 11 / 29} + std::chrono::hours{10};
        };
        o.send = http.send();
        return aws::dynamodb_client(std::move(o));
    }
};

TEST_F(client_fixture, ThrottlingAndServerErrorsAreRetriedUntilTheAnswer) {
    http.on_call(1, throttled).on_call(2, server_error).on_call(3, fake_aws_http::transport_failure());
    auto c = client();
    const auto r = c.call("ListTables", boost::json::object{{"Limit", 10}});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->at("TableNames").at(0).as_string(), "tracking");
    ASSERT_EQ(http.calls(), 4);
    ASSERT_EQ(sleeps.size(), 3U);
    const aws::retry_policy policy;
    for (std::size_t i = 0; i < sleeps.size(); ++i) {
        EXPECT_LE(sleeps[i], aws::backoff_bound(policy, static_cast<int>(i) + 1)) << i;
    }
    // Every attempt is the whole request, signed for DynamoDB, to the endpoint.
    for (const auto& req : http.requests()) {
        EXPECT_EQ(req.url, "http://localhost:8000");
        EXPECT_EQ(req.method, "POST");
        EXPECT_EQ(req.path, "/");
        EXPECT_EQ(req.body, R"({"Limit":10})");
        EXPECT_EQ(req.headers.front().first, "Host");
        EXPECT_EQ(header_of(req, "Host"), "localhost:8000");
        EXPECT_EQ(header_of(req, "X-Amz-Target"), "DynamoDB_20120810.ListTables");
        EXPECT_EQ(header_of(req, "Content-Type"), "application/x-amz-json-1.0");
        EXPECT_EQ(header_of(req, "X-Amz-Date"), "20261129T100000Z");
        EXPECT_TRUE(
            header_of(req, "Authorization")
                .starts_with(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/eu-central-2/dynamodb/aws4_request, "))
            << header_of(req, "Authorization");
    }
}

TEST_F(client_fixture, WhenTheAttemptsAreUsedUpTheLastErrorComesBack) {
    http.on_calls(1, 3, unavailable).on_call(4, throttled);
    auto c = client(4);
    const auto r = c.call("ListTables", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, aws::error_kind::throttled) << r.error().describe();
    EXPECT_EQ(r.error().type, "ProvisionedThroughputExceededException");
    EXPECT_TRUE(r.error().retryable());
    EXPECT_EQ(http.calls(), 4) << "max_attempts counts the first attempt";
    EXPECT_EQ(sleeps.size(), 3U);
}

TEST_F(client_fixture, ATransportFailureOnEveryAttemptIsARetryableTransportError) {
    http.on_calls(1, 5, fake_aws_http::transport_failure("connection refused"));
    auto c = client();
    const auto r = c.call("ListTables", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, aws::error_kind::transport);
    EXPECT_NE(r.error().message.find("connection refused"), std::string::npos) << r.error().message;
    EXPECT_EQ(http.calls(), 5);
}

TEST_F(client_fixture, ErrorsThatRetryingCannotHelpAreNotRetried) {
    for (const auto& answer :
         {fake_aws_http::status(
              400, R"({"__type":"com.amazon.coral.validate#ValidationException","message":"bad"})"),
          fake_aws_http::status(
              400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"})"),
          fake_aws_http::status(400,
                                R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"})"),
          fake_aws_http::status(403,
                                R"({"__type":"com.amazon.coral.service#UnrecognizedClientException"})")}) {
        fake_aws_http refusing{answer};
        http = refusing;
        sleeps.clear();
        auto c = client();
        const auto r = c.call("GetItem", {});
        ASSERT_FALSE(r) << answer->body;
        EXPECT_FALSE(r.error().retryable()) << answer->body;
        EXPECT_EQ(r.error().http_status, answer->status);
        EXPECT_EQ(http.calls(), 1) << answer->body;
        EXPECT_TRUE(sleeps.empty());
    }
}

TEST_F(client_fixture, CallOnceMakesOneAttemptWhateverTheError) {
    http.on_call(1, server_error);
    auto c = client();
    const auto r = c.call_once("ListTables", {});
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().retryable());
    EXPECT_EQ(http.calls(), 1);
    EXPECT_TRUE(sleeps.empty());
    EXPECT_TRUE(c.call_once("ListTables", {})) << "the next call is a new attempt";
}

TEST_F(client_fixture, AnUnusableEndpointFailsBeforeAnythingIsSent) {
    aws::dynamodb_options o;
    o.service.region = "eu-central-2";
    o.service.endpoint = "ftp://localhost";
    o.send = http.send();
    o.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    aws::dynamodb_client c(std::move(o));
    const auto r = c.call("ListTables", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, aws::error_kind::client);
    EXPECT_EQ(http.calls(), 0);
    EXPECT_TRUE(sleeps.empty());
}

TEST_F(client_fixture, AnAnswerThatIsNotJsonIsARetryableServerError) {
    http.on_call(1, fake_aws_http::status(200, "<html>proxy error</html>"));
    auto c = client();
    const auto r = c.call("ListTables", {});
    ASSERT_TRUE(r) << "retried: " << r.error().describe();
    EXPECT_EQ(http.calls(), 2);
}

}  // namespace
}  // namespace dinex

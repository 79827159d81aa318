// Pure tests of the AWS pieces: the error classifier on real DynamoDB error bodies, the retry
// policy with a fake sleep, credentials and endpoints, URL parsing, the item codec and sort keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "aws/aws_error.hpp"
#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "aws/retry.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex {
namespace {

using aws::error_kind;
using namespace std::chrono_literals;

// ---- error classifier (bodies as DynamoDB and moto send them) ---------------------------------

TEST(AwsError, ConditionalCheckFailedIsAMeaningNotARetry) {
    const auto e = aws::classify(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"})");
    EXPECT_EQ(e.kind, error_kind::conditional_check_failed);
    EXPECT_EQ(e.type, "ConditionalCheckFailedException");
    EXPECT_EQ(e.message, "The conditional request failed");
    EXPECT_FALSE(e.retryable());
    EXPECT_TRUE(e.condition_failed());
}

TEST(AwsError, TransactionCanceledCarriesItsReasons) {
    const auto e =
        aws::classify(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]",
        "CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},{"Code":"None"}]})");
    EXPECT_EQ(e.kind, error_kind::transaction_canceled);
    EXPECT_EQ(e.cancellation_reasons, (std::vector<std::string>{"None", "ConditionalCheckFailed", "None"}));
    EXPECT_TRUE(e.condition_failed());
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(e.message.find("Transaction cancelled"), std::string::npos);  // "Message" is read too
}

TEST(AwsError, TransactionCanceledForOtherReasonsIsNotAConditionFailure) {
    const auto e = aws::classify(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"x","CancellationReasons":[{"Code":"ValidationError"}]})");
    EXPECT_FALSE(e.condition_failed());
}

TEST(AwsError, ThrottlingAndServerErrorsRetry) {
    for (const char* type :
         {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}) {
        const auto e = aws::classify(400, std::string(R"({"__type":"com.amazonaws.dynamodb.v20120810#)") +
                                              type + R"(","message":"slow down"})");
        EXPECT_EQ(e.kind, error_kind::throttled) << type;
        EXPECT_TRUE(e.retryable()) << type;
    }
    EXPECT_TRUE(
        aws::classify(500, R"({"__type":"com.amazon.coral.service#InternalServerError"})").retryable());
    EXPECT_TRUE(
        aws::classify(503, R"({"__type":"com.amazon.coral.availability#ServiceUnavailable"})").retryable());
    EXPECT_TRUE(aws::classify(502, "<html>Bad Gateway</html>").retryable());  // any 5xx, body or not
    EXPECT_TRUE(aws::classify(504, "").retryable());
    EXPECT_TRUE(aws::transport_error("connection refused").retryable());
}

TEST(AwsError, ResourceErrorsHaveAMeaning) {
    EXPECT_EQ(
        aws::classify(
            400,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"})")
            .kind,
        error_kind::resource_not_found);
    EXPECT_EQ(
        aws::classify(
            400,
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceInUseException","message":"Table already exists: t"})")
            .kind,
        error_kind::resource_in_use);
}

TEST(AwsError, ClientAndAuthErrorsDoNotRetry) {
    const auto v = aws::classify(
        400,
        R"({"__type":"com.amazon.coral.validate#ValidationException","message":"One or more parameter values were invalid"})");
    EXPECT_EQ(v.kind, error_kind::client);
    EXPECT_FALSE(v.retryable());
    const auto sig = aws::classify(
        400,
        R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"The request signature we calculated does not match"})");
    EXPECT_EQ(sig.kind, error_kind::auth);
    EXPECT_FALSE(sig.retryable());
    // The XML form (moto's signature check answers so).
    const auto xml = aws::classify(403, R"(<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error><RequestId>x</RequestId></ErrorResponse>)");
    EXPECT_EQ(xml.kind, error_kind::auth);
    EXPECT_EQ(xml.type, "SignatureDoesNotMatch");
    EXPECT_NE(xml.message.find("does not match"), std::string::npos);
    EXPECT_EQ(aws::classify(400, "not json").kind, error_kind::client);
}

// ---- retry -------------------------------------------------------------------------------------

TEST(Retry, BoundsGrowExponentiallyUpToTheCap) {
    const aws::retry_policy p;  // 25 ms, cap 1 s, 5 attempts
    EXPECT_EQ(aws::backoff_bound(p, 1), 25ms);
    EXPECT_EQ(aws::backoff_bound(p, 2), 50ms);
    EXPECT_EQ(aws::backoff_bound(p, 3), 100ms);
    EXPECT_EQ(aws::backoff_bound(p, 6), 800ms);
    EXPECT_EQ(aws::backoff_bound(p, 7), 1000ms);
    EXPECT_EQ(aws::backoff_bound(p, 60), 1000ms);
}

TEST(Retry, FullJitterStaysWithinBoundsAndUsesTheWholeRange) {
    aws::backoff b(
        {}, [](std::chrono::milliseconds) {}, 42);
    for (int retry = 1; retry <= 8; ++retry) {
        const auto bound = aws::backoff_bound(b.policy(), retry);
        std::chrono::milliseconds lo = bound, hi{0};
        for (int i = 0; i < 2000; ++i) {
            const auto d = b.delay(retry);
            ASSERT_GE(d.count(), 0);
            ASSERT_LE(d, bound);
            lo = std::min(lo, d);
            hi = std::max(hi, d);
        }
        EXPECT_LE(lo.count(), bound.count() / 10) << retry;  // full jitter reaches down to ~0
        EXPECT_GE(hi.count(), bound.count() * 9 / 10) << retry;
    }
}

struct fake_error {
    bool retryable;
};

TEST(Retry, RetriesRetryableErrorsUpToMaxAttemptsWithoutSleeping) {
    std::vector<std::chrono::milliseconds> slept;
    aws::backoff b(
        {}, [&](std::chrono::milliseconds d) { slept.push_back(d); }, 7);
    int calls = 0;
    const auto r = b.run(
        [&]() -> std::expected<int, fake_error> {
            ++calls;
            return std::unexpected(fake_error{true});
        },
        [](const fake_error& e) { return e.retryable; });
    EXPECT_FALSE(r);
    EXPECT_EQ(calls, 5);
    ASSERT_EQ(slept.size(), 4U);
    for (std::size_t i = 0; i < slept.size(); ++i)
        EXPECT_LE(slept[i], aws::backoff_bound(b.policy(), static_cast<int>(i) + 1));
}

TEST(Retry, StopsAtTheFirstSuccessOrNonRetryableError) {
    int sleeps = 0;
    aws::backoff b(
        {}, [&](std::chrono::milliseconds) { ++sleeps; }, 7);
    int calls = 0;
    auto ok_on_third = b.run(
        [&]() -> std::expected<int, fake_error> {
            return ++calls < 3 ? std::expected<int, fake_error>(std::unexpected(fake_error{true})) : 7;
        },
        [](const fake_error& e) { return e.retryable; });
    EXPECT_EQ(ok_on_third.value(), 7);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(sleeps, 2);
    calls = 0;
    sleeps = 0;
    const auto fatal = b.run(
        [&]() -> std::expected<int, fake_error> {
            ++calls;
            return std::unexpected(fake_error{false});
        },
        [](const fake_error& e) { return e.retryable; });
    EXPECT_FALSE(fatal);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(sleeps, 0);
}

TEST(Retry, TheClassifierDecidesWhatRetries) {
    aws::backoff b(
        {}, [](std::chrono::milliseconds) {}, 1);
    for (const auto& [error, expected_calls] : std::vector<std::pair<aws::aws_error, int>>{
             {aws::classify(400, R"({"__type":"x#ThrottlingException"})"), 5},
             {aws::classify(500, ""), 5},
             {aws::transport_error("reset"), 5},
             {aws::classify(400, R"({"__type":"x#ConditionalCheckFailedException"})"), 1},
             {aws::classify(400, R"({"__type":"x#ValidationException"})"), 1}}) {
        int calls = 0;
        (void)b.run(
            [&]() -> std::expected<int, aws::aws_error> {
                ++calls;
                return std::unexpected(error);
            },
            [](const aws::aws_error& e) { return e.retryable(); });
        EXPECT_EQ(calls, expected_calls) << error.describe();
    }
}

// ---- credentials and endpoints -----------------------------------------------------------------

aws::env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

TEST(Credentials, FromTheEnvironmentWithDefaultEndpoint) {
    const auto c = aws::config_from_environment("dynamodb", env_of({{"AWS_ACCESS_KEY_ID", "AKID"},
                                                                    {"AWS_SECRET_ACCESS_KEY", "secret"},
                                                                    {"AWS_SESSION_TOKEN", "token"},
                                                                    {"AWS_DEFAULT_REGION", "sa-east-1"}}));
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->creds.session_token, "token");
    EXPECT_EQ(c->region, "sa-east-1");
    EXPECT_EQ(c->endpoint, "https://dynamodb.sa-east-1.amazonaws.com");
}

TEST(Credentials, EndpointOverridesAndRegionPrecedence) {
    std::map<std::string, std::string> vars{{"AWS_ACCESS_KEY_ID", "a"},
                                            {"AWS_SECRET_ACCESS_KEY", "s"},
                                            {"AWS_REGION", "us-east-2"},
                                            {"AWS_DEFAULT_REGION", "eu-west-1"},
                                            {"AWS_ENDPOINT_URL", "http://localhost:1/"}};
    EXPECT_EQ(aws::config_from_environment("dynamodb", env_of(vars))->endpoint, "http://localhost:1");
    EXPECT_EQ(aws::config_from_environment("dynamodb", env_of(vars))->region, "us-east-2");
    vars["AWS_ENDPOINT_URL_DYNAMODB"] = "http://localhost:2";
    EXPECT_EQ(aws::config_from_environment("dynamodb", env_of(vars))->endpoint, "http://localhost:2");
    EXPECT_FALSE(aws::config_from_environment("dynamodb", env_of({{"AWS_REGION", "x"}})));
    EXPECT_FALSE(aws::config_from_environment(
        "dynamodb", env_of({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}})));
}

TEST(HttpClient, ParsesUrls) {
    const auto a = aws::parse_url("https://dynamodb.us-east-1.amazonaws.com");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->tls);
    EXPECT_EQ(a->port, "443");
    EXPECT_EQ(a->authority, "dynamodb.us-east-1.amazonaws.com");
    const auto b = aws::parse_url("http://127.0.0.1:4566");
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->tls);
    EXPECT_EQ(b->authority, "127.0.0.1:4566");
    EXPECT_FALSE(aws::parse_url("ftp://x"));
    EXPECT_FALSE(aws::parse_url("not a url"));
}

TEST(HttpClient, ReportsTransportErrorsAsValues) {
    aws::http_client_options options;
    options.connect_timeout = 500ms;
    aws::http_client client(options);
    // Port 1 on loopback: nothing listens there.
    const auto r = client.send(
        {.method = "GET", .url = "http://127.0.0.1:1", .path = "/", .query = {}, .headers = {}, .body = {}});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("connecting"), std::string::npos) << r.error().message;
}

// ---- items and sort keys -----------------------------------------------------------------------

namespace items = store::dynamodb_items;

TEST(DynamoItems, SortKeysArePaddedAndOrderLikeTheHistory) {
    EXPECT_EQ(items::event_sort_key(1'764'403'200'000, 7), "EVENT#001764403200000#000000000007");
    EXPECT_EQ(items::event_sort_key(0, 1), "EVENT#000000000000000#000000000001");
    EXPECT_EQ(items::marker_sort_key("abc"), "DEDUP#abc");
    // Byte order of keys == (timestamp, arrival) order, across digit-count changes.
    const std::vector<std::pair<core::millis, std::uint64_t>> events{{9, 40},
                                                                     {10, 2},
                                                                     {10, 3},
                                                                     {10, 10},
                                                                     {999'999, 1},
                                                                     {1'764'403'200'000, 9},
                                                                     {1'764'403'200'000, 100'000},
                                                                     {999'999'999'999'999, 1}};
    for (std::size_t i = 1; i < events.size(); ++i) {
        EXPECT_LT(items::event_sort_key(events[i - 1].first, events[i - 1].second),
                  items::event_sort_key(events[i].first, events[i].second));
    }
    // Descending: STATE, then events, then markers — one Query with sk >= "EVENT#" skips markers.
    EXPECT_GT(std::string(items::state_sk), items::event_sort_key(999'999'999'999'999, 999'999'999'999));
    EXPECT_GT(items::event_sort_key(0, 0), items::marker_sort_key("zzzz"));
    EXPECT_GE(items::event_sort_key(0, 0), std::string(items::event_prefix));
}

TEST(DynamoItems, TtlIsInSecondsAndNeverEarlier) {
    EXPECT_EQ(items::ttl_seconds(1'764'403'200'000), 1'764'403'200);
    EXPECT_EQ(items::ttl_seconds(1'764'403'200'001), 1'764'403'201);
}

core::event sample_event() {
    core::event e;
    e.tracking_id = "TRK100";
    e.event_id = "01J0000000000000000000";
    e.state = core::status::out_for_delivery;
    e.location = "São Paulo — «centro» 📦";
    e.timestamp = 1'764'403'199'123;
    e.received_at = 1'764'403'200'000;
    e.description = "Saiu para entrega";
    e.notes = "Frágil";
    e.coordinates = core::position{-23.550519999999999, -46.633308999999997};
    e.sequence = 3;
    return e;
}

TEST(DynamoItems, EventsRoundTripExactly) {
    const auto e = sample_event();
    const auto item = items::encode_event(e, e.received_at + 1000);
    EXPECT_EQ(item.at("sk").at("S").as_string(), items::event_sort_key(e.timestamp, e.sequence));
    EXPECT_EQ(item.at("expires_at").at("N").as_string(), "1764403201");
    EXPECT_EQ(items::expires_at_ms(item), e.received_at + 1000);
    EXPECT_FALSE(item.contains("gsi_status"));  // events stay out of the status index
    EXPECT_EQ(items::decode_event(item).value(), e);

    auto bare = e;
    bare.description.reset();
    bare.notes.reset();
    bare.coordinates.reset();
    EXPECT_EQ(items::decode_event(items::encode_event(bare, 0)).value(), bare);

    const auto marker = items::encode_marker(e, 5);
    EXPECT_EQ(marker.at("sk").at("S").as_string(), "DEDUP#" + e.event_id);
    EXPECT_EQ(marker.at("event_sk").at("S").as_string(), items::event_sort_key(e.timestamp, e.sequence));
    EXPECT_EQ(items::decode_event(marker).value(), e);
}

TEST(DynamoItems, StateRoundTripsWithVersionAndIndexAttributes) {
    core::package_state s;
    s.tracking_id = "TRK100";
    s.state = core::status::delivered;
    s.location = "Lima";
    s.notes = "ok";
    s.coordinates = core::position{0.1, -0.2};
    s.timestamp = 3;
    s.event_id = "e";
    s.created_at = 1;
    s.updated_at = 4;
    s.expires_at = 2'592'000'004;
    s.event_count = 12;
    const auto item = items::encode_state(s, 7);
    EXPECT_EQ(item.at("sk").at("S").as_string(), "STATE");
    EXPECT_EQ(item.at("gsi_status").at("S").as_string(), "DELIVERED");
    EXPECT_EQ(item.at("gsi_updated_at").at("N").as_string(), "4");
    EXPECT_EQ(item.at("expires_at").at("N").as_string(), "2592001");
    const auto d = items::decode_state(item);
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(d->state, s);
    EXPECT_EQ(d->version, 7);
}

TEST(DynamoItems, MalformedItemsAreErrorsNamingTheAttribute) {
    auto item = items::encode_event(sample_event(), 0);
    item["timestamp"] = boost::json::object{{"S", "yesterday"}};
    const auto r = items::decode_event(item);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("timestamp"), std::string::npos);
    item = items::encode_event(sample_event(), 0);
    item["status"] = items::string("LOST_IN_SPACE");
    EXPECT_FALSE(items::decode_event(item));
}

TEST(DynamoSchema, TheTableDefinition) {
    const auto t = store::dynamodb_schema::create_table_request("dinex-tracking-dev");
    EXPECT_EQ(t.at("BillingMode").as_string(), "PAY_PER_REQUEST");
    EXPECT_EQ(t.at("KeySchema").as_array().size(), 2U);
    EXPECT_EQ(t.at("GlobalSecondaryIndexes").as_array()[0].at("IndexName").as_string(),
              "status-updated-index");
    EXPECT_TRUE(t.at("SSESpecification").at("Enabled").as_bool());
    EXPECT_TRUE(t.at("StreamSpecification").at("StreamEnabled").as_bool());
    EXPECT_EQ(t.at("StreamSpecification").at("StreamViewType").as_string(), "NEW_AND_OLD_IMAGES");
    const auto ttl = store::dynamodb_schema::update_ttl_request("dinex-tracking-dev");
    EXPECT_EQ(ttl.at("TimeToLiveSpecification").at("AttributeName").as_string(), "expires_at");
}

}  // namespace
}  // namespace dinex

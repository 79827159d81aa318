// The SNS Publish request and answers, and the stream consumer's decisions, without any I/O.
#include <gtest/gtest.h>

#include <unistd.h>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "../support/fake_aws_http.hpp"
#include "lambda/stream_consumer.hpp"
#include "notify/sns_publisher.hpp"
#include "store/dynamodb/item_codec.hpp"

namespace dinex {
namespace {

namespace json = boost::json;
namespace items = store::dynamodb_items;

constexpr core::millis t0 = 1795946400000;  // 2026-11-29T10:00:00.000Z

core::notification sample() {
    return core::notification{
        "TRK001", core::status::in_transit, core::status::picked_up, "Zürich Hub & Co", t0, "evt-1"};
}

// ---- SNS Publish --------------------------------------------------------------------------------

// The expected bytes are Python's urllib.parse.urlencode of the same pairs, which is how botocore
// (and moto, re-encoding the form to check the signature) writes a Query-protocol body.
TEST(SnsPublish, FormEncodingOfAKnownNotificationIsExact) {
    const std::string expected =
        "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Adi"
        "nex-tracking-dev&Subject=Tracking+update%3A+TRK001+is+IN_TRANSIT&Message=%7B%22type%22%3A%"
        "22tracking.updated%22%2C%22tracking_id%22%3A%22TRK001%22%2C%22status%22%3A%22IN_TRANSIT%22"
        "%2C%22previous_status%22%3A%22PICKED_UP%22%2C%22location%22%3A%22Z%C3%BCrich+Hub+%26+Co%22"
        "%2C%22timestamp%22%3A%222026-11-29T10%3A00%3A00.000Z%22%2C%22event_id%22%3A%22evt-1%22%7D&"
        "MessageAttributes.entry.1.Name=status&MessageAttributes.entry.1.Value.DataType=String&Mess"
        "ageAttributes.entry.1.Value.StringValue=IN_TRANSIT&MessageAttributes.entry.2.Name=tracking"
        "_id&MessageAttributes.entry.2.Value.DataType=String&MessageAttributes.entry.2.Value.String"
        "Value=TRK001";
    EXPECT_EQ(notify::publish_form(sample(), "arn:aws:sns:us-east-1:123456789012:dinex-tracking-dev"),
              expected);
}

TEST(SnsPublish, MessageJsonCarriesEveryFieldAndNullForANewPackage) {
    auto n = sample();
    n.previous.reset();
    const auto doc = json::parse(notify::message_json(n)).as_object();
    EXPECT_EQ(doc.at("type").as_string(), "tracking.updated");
    EXPECT_EQ(doc.at("tracking_id").as_string(), "TRK001");
    EXPECT_EQ(doc.at("status").as_string(), "IN_TRANSIT");
    EXPECT_TRUE(doc.at("previous_status").is_null());
    EXPECT_EQ(doc.at("location").as_string(), "Zürich Hub & Co");
    EXPECT_EQ(doc.at("timestamp").as_string(), "2026-11-29T10:00:00.000Z");
    EXPECT_EQ(doc.at("event_id").as_string(), "evt-1");
    EXPECT_EQ(doc.size(), 7U);
}

TEST(SnsPublish, SubjectIsPrintableAsciiAndAtMost100Characters) {
    EXPECT_EQ(notify::subject(sample()), "Tracking update: TRK001 is IN_TRANSIT");
    auto n = sample();
    n.tracking_id = std::string(120, 'A') + "\n";
    const auto s = notify::subject(n);
    EXPECT_EQ(s.size(), notify::max_subject_chars);
    n.tracking_id = "TRK\xc3\xbc\n";
    EXPECT_EQ(notify::subject(n), "Tracking update: TRK??? is IN_TRANSIT");
}

TEST(SnsPublish, FormEncodingEscapesEverythingButUnreserved) {
    EXPECT_EQ(notify::form_encode("aZ09-._~ +/=&%*"), "aZ09-._~+%2B%2F%3D%26%25%2A");
}

TEST(SnsAnswer, MessageIdOfAPublishResponse) {
    const auto r = notify::parse_publish_answer(
        200,
        R"(<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>)"
        R"(<MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult>)"
        R"(<ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata></PublishResponse>)");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "567910cd-659e-55d4-8ccb-5aaf14679dc0");
    const auto empty = notify::parse_publish_answer(200, "<PublishResponse/>");
    ASSERT_FALSE(empty);
    EXPECT_TRUE(empty.error().retryable());
}

std::string error_xml(std::string_view code, std::string_view message) {
    std::string out =
        R"(<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>)";
    out.append(code).append("</Code><Message>").append(message);
    out.append(
        "</Message></Error><RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId></ErrorResponse>");
    return out;
}

TEST(SnsAnswer, XmlErrorsGoThroughTheOneClassifier) {
    struct row {
        int status;
        const char* code;
        aws::error_kind kind;
        bool retryable;
    };
    for (const auto& r : {row{400, "Throttling", aws::error_kind::throttled, true},
                          row{500, "InternalError", aws::error_kind::server, true},
                          row{503, "ServiceUnavailable", aws::error_kind::server, true},
                          row{403, "AuthorizationError", aws::error_kind::auth, false},
                          row{403, "SignatureDoesNotMatch", aws::error_kind::auth, false},
                          row{404, "NotFound", aws::error_kind::client, false},
                          row{400, "InvalidParameter", aws::error_kind::client, false}}) {
        const auto e = notify::parse_publish_answer(r.status, error_xml(r.code, "Topic does not exist"));
        ASSERT_FALSE(e) << r.code;
        EXPECT_EQ(e.error().kind, r.kind) << r.code;
        EXPECT_EQ(e.error().retryable(), r.retryable) << r.code;
        EXPECT_EQ(e.error().type, r.code);
        EXPECT_EQ(e.error().message, "Topic does not exist");
    }
}

TEST(SnsConfig, TopicAndEndpointFromTheEnvironment) {
    std::map<std::string, std::string> env{
        {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_REGION", "eu-central-1"}};
    const auto lookup = [&](const char* name) -> const char* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    auto o = notify::sns_options_from_environment(lookup);
    ASSERT_FALSE(o);
    EXPECT_NE(o.error().find("SNS_TOPIC"), std::string::npos);
    env["SNS_TOPIC"] = "arn:aws:sns:eu-central-1:123456789012:t";
    o = notify::sns_options_from_environment(lookup);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->topic_arn, "arn:aws:sns:eu-central-1:123456789012:t");
    EXPECT_EQ(o->service.endpoint, "https://sns.eu-central-1.amazonaws.com");
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000";
    EXPECT_EQ(notify::sns_options_from_environment(lookup)->service.endpoint, "http://127.0.0.1:5000");
    env["AWS_ENDPOINT_URL_SNS"] = "http://127.0.0.1:6000/";
    EXPECT_EQ(notify::sns_options_from_environment(lookup)->service.endpoint, "http://127.0.0.1:6000");
}

// ---- The stream consumer ------------------------------------------------------------------------

core::package_state state(std::string id, core::status s, std::string event_id, core::millis ts,
                          core::millis created = t0) {
    core::package_state p;
    p.tracking_id = std::move(id);
    p.state = s;
    p.location = "Hub";
    p.timestamp = ts;
    p.event_id = std::move(event_id);
    p.created_at = created;
    p.updated_at = ts;
    p.expires_at = ts + 1000;
    p.event_count = 1;
    return p;
}

json::object record(std::string_view name, std::string_view seq, const json::object* new_image,
                    const json::object* old_image) {
    const json::object& any = new_image ? *new_image : *old_image;
    json::object ddb{{"ApproximateCreationDateTime", 1795946400},
                     {"Keys", json::object{{"tracking_id", any.at("tracking_id")}, {"sk", any.at("sk")}}},
                     {"SequenceNumber", seq},
                     {"SizeBytes", 100},
                     {"StreamViewType", "NEW_AND_OLD_IMAGES"}};
    if (new_image) ddb["NewImage"] = *new_image;
    if (old_image) ddb["OldImage"] = *old_image;
    return json::object{
        {"eventID", "id-" + std::string(seq)},
        {"eventName", name},
        {"eventVersion", "1.1"},
        {"eventSource", "aws:dynamodb"},
        {"awsRegion", "us-east-1"},
        {"dynamodb", std::move(ddb)},
        {"eventSourceARN", "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-29T00:00:00.000"}};
}

std::string event_of(std::initializer_list<json::object> records) {
    json::array a;
    for (const auto& r : records) a.push_back(r);
    return json::serialize(json::object{{"Records", std::move(a)}});
}

struct fake_notifier final : core::notifier {
    int fail_call = 0;  // the Nth call (1-based) fails; 0: never
    int calls = 0;
    std::vector<core::notification> published;
    std::string_view backend_name() const noexcept override { return "fake"; }
    core::result<void> publish(const core::notification& n) override {
        if (++calls == fail_call)
            return core::fail(core::error::unavailable_error("fake: connection refused"));
        published.push_back(n);
        return {};
    }
};

struct consumer_fixture : ::testing::Test {
    std::FILE* sink = std::tmpfile();
    obs::logger log{obs::level::info, ::fileno(sink), 10};
    fake_notifier fake;
    lambda::stream_consumer consumer{fake, log, "dev", ::fileno(sink)};
    ~consumer_fixture() override { std::fclose(sink); }
    std::string logged() {
        log.flush();
        std::fflush(sink);
        std::rewind(sink);
        std::string out;
        char buf[4096];
        while (const auto n = std::fread(buf, 1, sizeof buf, sink)) out.append(buf, n);
        return out;
    }
};

TEST(StreamDecisions, NewPackageStateChangeLateArrivalAndOtherItems) {
    const auto s1 = items::encode_state(state("TRK1", core::status::picked_up, "e1", t0), 1);
    const auto s2 = items::encode_state(state("TRK1", core::status::in_transit, "e2", t0 + 10), 2);
    auto late = items::encode_state(state("TRK1", core::status::in_transit, "e2", t0 + 10), 3);
    late["event_count"] = items::number(std::int64_t{3});
    core::event ev{"TRK1", "e1", core::status::picked_up, "Hub", t0, t0, {}, {}, {}, {}};
    const auto event_item = items::encode_event(ev, t0 + 1000);
    const auto marker_item = items::encode_marker(ev, t0 + 1000);

    const auto d = lambda::decide_records(
        event_of({record("INSERT", "100", &s1, nullptr), record("INSERT", "101", &event_item, nullptr),
                  record("INSERT", "102", &marker_item, nullptr), record("MODIFY", "103", &s2, &s1),
                  record("MODIFY", "104", &late, &s2), record("REMOVE", "105", nullptr, &late)}));
    ASSERT_TRUE(d);
    ASSERT_EQ(d->size(), 6U);
    using lambda::record_action;
    EXPECT_EQ((*d)[0].action, record_action::publish);
    EXPECT_EQ((*d)[0].message,
              (core::notification{"TRK1", core::status::picked_up, std::nullopt, "Hub", t0, "e1"}));
    EXPECT_EQ((*d)[0].sequence_number, "100");
    EXPECT_EQ((*d)[1].action, record_action::ignore);
    EXPECT_EQ((*d)[2].action, record_action::ignore);
    EXPECT_EQ((*d)[3].action, record_action::publish);
    EXPECT_EQ((*d)[3].message, (core::notification{"TRK1", core::status::in_transit, core::status::picked_up,
                                                   "Hub", t0 + 10, "e2"}));
    EXPECT_EQ((*d)[4].action, record_action::ignore);
    EXPECT_NE((*d)[4].reason.find("late arrival"), std::string::npos);
    EXPECT_EQ((*d)[5].action, record_action::ignore);
}

TEST(StreamDecisions, ANewLifeAfterExpiryHasNoPreviousStatus) {
    const auto old_life = items::encode_state(state("TRK2", core::status::delivered, "e1", t0, t0), 4);
    const auto new_life =
        items::encode_state(state("TRK2", core::status::info_received, "e9", t0 + 99, t0 + 99), 5);
    const auto d = lambda::decide_records(event_of({record("MODIFY", "200", &new_life, &old_life)}));
    ASSERT_TRUE(d);
    ASSERT_EQ((*d)[0].action, lambda::record_action::publish);
    EXPECT_FALSE((*d)[0].message->previous);
}

TEST(StreamDecisions, MalformedRecords) {
    const auto good = items::encode_state(state("TRK3", core::status::picked_up, "e1", t0), 1);
    auto bad_status = good;
    bad_status["status"] = items::string("TELEPORTED");
    auto no_seq = record("INSERT", "300", &good, nullptr);
    no_seq["dynamodb"].as_object().erase("SequenceNumber");
    auto keys_only = record("INSERT", "301", &good, nullptr);
    keys_only["dynamodb"].as_object().erase("NewImage");
    auto other_source = record("INSERT", "302", &good, nullptr);
    other_source["eventSource"] = "aws:kinesis";
    auto bad_name = record("UPSERT", "303", &good, nullptr);
    json::array a{
        record("INSERT", "304", &bad_status, nullptr), no_seq, keys_only, other_source, bad_name, 42};
    const auto d = lambda::decide_records(json::serialize(json::object{{"Records", a}}));
    ASSERT_TRUE(d);
    for (const auto& r : *d) EXPECT_EQ(r.action, lambda::record_action::malformed) << r.reason;
    EXPECT_NE((*d)[0].reason.find("status"), std::string::npos);
    EXPECT_NE((*d)[2].reason.find("NewImage"), std::string::npos);
    EXPECT_FALSE(lambda::decide_records("[]"));
    EXPECT_FALSE(lambda::decide_records("{\"Records\":5}"));
}

TEST(StreamDecisions, StreamEventsAreRecognisedAndHttpEventsAreNot) {
    const auto s1 = items::encode_state(state("TRK4", core::status::picked_up, "e1", t0), 1);
    EXPECT_TRUE(lambda::is_stream_event(event_of({record("INSERT", "1", &s1, nullptr)})));
    EXPECT_FALSE(
        lambda::is_stream_event(R"({"version":"2.0","rawPath":"/dev/tracking","body":"aws:dynamodb"})"));
    EXPECT_FALSE(lambda::is_stream_event(R"({"Records":[{"eventSource":"aws:sqs"}],"x":"aws:dynamodb"})"));
    EXPECT_FALSE(lambda::is_stream_event(R"({"Records":[]} aws:dynamodb)"));
    EXPECT_FALSE(lambda::is_stream_event("not json"));
}

// A batch with three state changes interleaved with records that publish nothing.
std::string mixed_batch() {
    static const auto a1 = items::encode_state(state("TRKA", core::status::picked_up, "a1", t0), 1);
    static const auto a2 = items::encode_state(state("TRKA", core::status::in_transit, "a2", t0 + 1), 2);
    static const auto b1 = items::encode_state(state("TRKB", core::status::picked_up, "b1", t0), 1);
    static const core::event ev{"TRKA", "a1", core::status::picked_up, "Hub", t0, t0, {}, {}, {}, {}};
    static const auto event_item = items::encode_event(ev, t0 + 1000);
    return event_of({record("INSERT", "10", &a1, nullptr), record("INSERT", "11", &event_item, nullptr),
                     record("MODIFY", "12", &a2, &a1), record("INSERT", "13", &b1, nullptr),
                     record("MODIFY", "14", &a2, &a2)});
}

TEST_F(consumer_fixture, EverythingPublishedAnswersAnEmptyFailureList) {
    EXPECT_EQ(consumer.handle(mixed_batch(), "req-1"), R"({"batchItemFailures":[]})");
    ASSERT_EQ(fake.published.size(), 3U);
    EXPECT_EQ(fake.published[0].event_id, "a1");
    EXPECT_EQ(fake.published[1].event_id, "a2");
    EXPECT_EQ(fake.published[2].event_id, "b1");
    EXPECT_EQ(consumer.counters().published, 3U);
    EXPECT_EQ(consumer.counters().ignored, 2U);
    // The batch's one document: its log fields and its metrics (no failure, none malformed: left out).
    const auto text = logged();
    EXPECT_NE(text.find(R"("aws_request_id":"req-1","records":5,"ignored":2,"retried":0,"notifier":"fake")"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"("Environment":"dev","NotificationsSent":3})"), std::string::npos) << text;
}

// Walks the failure over every publish call of the batch.
TEST(StreamConsumer, TheNthPublishFailingListsThatRecordAndEveryLaterOne) {
    const std::vector<std::string> expected = {
        R"({"batchItemFailures":[{"itemIdentifier":"10"},{"itemIdentifier":"11"},{"itemIdentifier":"12"},{"itemIdentifier":"13"},{"itemIdentifier":"14"}]})",
        R"({"batchItemFailures":[{"itemIdentifier":"12"},{"itemIdentifier":"13"},{"itemIdentifier":"14"}]})",
        R"({"batchItemFailures":[{"itemIdentifier":"13"},{"itemIdentifier":"14"}]})",
    };
    for (int n = 1; n <= 3; ++n) {
        std::FILE* sink = std::tmpfile();
        {
            obs::logger log{obs::level::info, ::fileno(sink), 10};
            fake_notifier fake;
            fake.fail_call = n;
            lambda::stream_consumer consumer{fake, log};
            EXPECT_EQ(consumer.handle(mixed_batch()), expected[static_cast<std::size_t>(n - 1)]) << n;
            EXPECT_EQ(fake.calls, n) << "nothing is attempted after a failure";
            EXPECT_EQ(fake.published.size(), static_cast<std::size_t>(n - 1));
            EXPECT_EQ(consumer.counters().failed, 1U);
            // Lambda redelivers from the first failed record on: with the channel back, all of it
            // is published (the records before it were acknowledged and are not redelivered).
            fake.fail_call = 0;
            EXPECT_EQ(consumer.handle(mixed_batch()), R"({"batchItemFailures":[]})");
        }
        std::fclose(sink);
    }
}

TEST_F(consumer_fixture, AMalformedRecordIsLoggedCountedAndSkipped) {
    const auto a1 = items::encode_state(state("TRKM", core::status::picked_up, "m1", t0), 1);
    auto broken = a1;
    broken.erase("location");
    const auto a2 = items::encode_state(state("TRKM", core::status::in_transit, "m2", t0 + 1), 2);
    const auto answer = consumer.handle(
        event_of({record("INSERT", "20", &broken, nullptr), record("MODIFY", "21", &a2, &a1)}), "req-2");
    EXPECT_EQ(answer, R"({"batchItemFailures":[]})");
    ASSERT_EQ(fake.published.size(), 1U);
    EXPECT_EQ(fake.published[0].event_id, "m2");
    EXPECT_EQ(consumer.counters().malformed, 1U);
    const auto text = logged();
    EXPECT_NE(text.find("malformed stream record skipped"), std::string::npos);
    EXPECT_NE(text.find(R"("sequence_number":"20")"), std::string::npos);
    EXPECT_NE(text.find("location"), std::string::npos);
}

// ---- SNS through the fake at the HTTP seam: retries and a publish failing among several --------

const std::string published_xml =
    R"(<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>)"
    R"(<MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult></PublishResponse>)";

notify::sns_options sns_over(const testing::fake_aws_http& http, int* sleeps) {
    notify::sns_options o;
    o.service.creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    o.service.region = "eu-central-2";
    o.service.endpoint = "https://sns.eu-central-2.amazonaws.com";
    o.topic_arn = "arn:aws:sns:eu-central-2:123456789012:tracking";
    o.send = http.send();
    o.sleep = [sleeps](std::chrono::milliseconds) { ++*sleeps; };
    return o;
}

TEST(SnsRetry, ThrottlingAndServerErrorsAreRetriedAndEveryAttemptIsTheSameSignedPublish) {
    testing::fake_aws_http http{testing::fake_aws_http::status(200, published_xml)};
    http.on_call(1, testing::fake_aws_http::status(400, error_xml("Throttling", "Rate exceeded")))
        .on_call(2, testing::fake_aws_http::transport_failure())
        .on_call(3, testing::fake_aws_http::status(503, error_xml("ServiceUnavailable", "try later")));
    int sleeps = 0;
    notify::sns_publisher sns{sns_over(http, &sleeps)};
    const auto sent = sns.publish_message(sample());
    ASSERT_TRUE(sent) << sent.error().describe();
    EXPECT_EQ(*sent, "567910cd-659e-55d4-8ccb-5aaf14679dc0");
    EXPECT_EQ(http.calls(), 4);
    EXPECT_EQ(sleeps, 3);
    for (const auto& req : http.requests()) {
        EXPECT_EQ(req.body, notify::publish_form(sample(), "arn:aws:sns:eu-central-2:123456789012:tracking"));
        EXPECT_EQ(testing::header_of(req, "Host"), "sns.eu-central-2.amazonaws.com");
        EXPECT_EQ(testing::header_of(req, "Content-Type"),
                  "application/x-www-form-urlencoded; charset=utf-8");
        EXPECT_NE(testing::header_of(req, "Authorization").find("/eu-central-2/sns/aws4_request, "),
                  std::string::npos);
    }
}

TEST(SnsRetry, UsedUpAttemptsAreUnavailableAndARefusalIsInternalAtOnce) {
    {
        testing::fake_aws_http http{testing::fake_aws_http::status(500, error_xml("InternalError", "oops"))};
        int sleeps = 0;
        notify::sns_publisher sns{sns_over(http, &sleeps)};
        const auto r = sns.publish(sample());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, core::errc::unavailable);
        EXPECT_EQ(http.calls(), aws::retry_policy{}.max_attempts);
        EXPECT_EQ(sleeps, aws::retry_policy{}.max_attempts - 1);
    }
    {
        testing::fake_aws_http http{
            testing::fake_aws_http::status(403, error_xml("AuthorizationError", "not allowed"))};
        int sleeps = 0;
        notify::sns_publisher sns{sns_over(http, &sleeps)};
        const auto r = sns.publish(sample());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, core::errc::internal);
        EXPECT_EQ(http.calls(), 1);
        EXPECT_EQ(sleeps, 0);
    }
}

// The stream consumer over the real SNS adapter: a refused Publish of the Nth state change lists
// that record and every later one, and nothing is sent after it; a passing fault is retried away.
TEST(StreamConsumerOverSns, TheNthPublishRefusedListsThatRecordAndEveryLaterOne) {
    const std::vector<std::string> expected = {
        R"({"batchItemFailures":[{"itemIdentifier":"10"},{"itemIdentifier":"11"},{"itemIdentifier":"12"},{"itemIdentifier":"13"},{"itemIdentifier":"14"}]})",
        R"({"batchItemFailures":[{"itemIdentifier":"12"},{"itemIdentifier":"13"},{"itemIdentifier":"14"}]})",
        R"({"batchItemFailures":[{"itemIdentifier":"13"},{"itemIdentifier":"14"}]})",
    };
    for (int n = 1; n <= 3; ++n) {
        std::FILE* sink = std::tmpfile();
        {
            obs::logger log{obs::level::info, ::fileno(sink), 10};
            testing::fake_aws_http http{testing::fake_aws_http::status(200, published_xml)};
            http.on_call(n,
                         testing::fake_aws_http::status(400, error_xml("InvalidParameter", "bad attribute")));
            int sleeps = 0;
            notify::sns_publisher sns{sns_over(http, &sleeps)};
            lambda::stream_consumer consumer{sns, log};
            EXPECT_EQ(consumer.handle(mixed_batch()), expected[static_cast<std::size_t>(n - 1)]) << n;
            EXPECT_EQ(http.calls(), n) << "nothing is sent after a refused publish";
            EXPECT_EQ(consumer.counters().published, static_cast<std::uint64_t>(n - 1));
            EXPECT_EQ(consumer.counters().failed, 1U);
            EXPECT_EQ(sleeps, 0);
        }
        std::fclose(sink);
    }
}

TEST(StreamConsumerOverSns, AThrottledPublishIsRetriedAndTheBatchSucceeds) {
    std::FILE* sink = std::tmpfile();
    {
        obs::logger log{obs::level::info, ::fileno(sink), 10};
        testing::fake_aws_http http{testing::fake_aws_http::status(200, published_xml)};
        http.on_call(2, testing::fake_aws_http::status(400, error_xml("Throttling", "Rate exceeded")));
        int sleeps = 0;
        notify::sns_publisher sns{sns_over(http, &sleeps)};
        lambda::stream_consumer consumer{sns, log};
        EXPECT_EQ(consumer.handle(mixed_batch()), R"({"batchItemFailures":[]})");
        EXPECT_EQ(http.calls(), 4);
        EXPECT_EQ(sleeps, 1);
        EXPECT_EQ(consumer.counters().published, 3U);
        EXPECT_EQ(consumer.counters().failed, 0U);
        // The retried publish is the second state change's, sent again whole.
        EXPECT_EQ(http.requests()[1].body, http.requests()[2].body);
        EXPECT_NE(http.requests()[2].body.find("a2"), std::string::npos);
    }
    std::fclose(sink);
}

}  // namespace
}  // namespace dinex

// The CloudWatch Embedded Metric Format writer: exact lines, and the structure the EMF
// specification requires (every referenced dimension and metric is a root member, dimension values
// are strings, metric values numbers, Timestamp in epoch ms), on the one document per invocation
// that also carries the access fields.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "obs/emf.hpp"

namespace dinex::obs {
namespace {

namespace json = boost::json;
constexpr std::int64_t t0 = 1'764'432'000'123;
using core::status;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        EXPECT_NE(end, std::string::npos) << "every line ends in a newline";
        if (end == std::string::npos) break;
        out.push_back(text.substr(start, end - start + 1));
        start = end + 1;
    }
    return out;
}

json::object only_document(const std::string& text) {
    const auto lines = lines_of(text);
    EXPECT_EQ(lines.size(), 1U) << text;
    return json::parse(lines.at(0)).as_object();
}

std::string request(int http_status, double ms = 1, std::vector<status> stored = {}) {
    return emf::invocation_lines("prod", t0, http_status, ms, nullptr, stored);
}

TEST(Emf, InvocationExactLine) {
    const emf::access_fields access{.request_id = "Jxk2XjvSoAMEbXA=",
                                    .method = "POST",
                                    .route = "/tracking",
                                    .bytes_in = 71,
                                    .bytes_out = 230,
                                    .note = {}};
    const std::vector<status> stored{status::in_transit};
    EXPECT_EQ(
        emf::invocation_lines("dev", t0, 201, 12.5, &access, stored),
        R"({"request_id":"Jxk2XjvSoAMEbXA=","method":"POST","route":"/tracking","status":201,)"
        R"("bytes_in":71,"bytes_out":230,)"
        R"("_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
        R"("Dimensions":[["Environment"],[]],"Metrics":[{"Name":"Requests"},)"
        R"({"Name":"Latency","Unit":"Milliseconds"}]},{"Namespace":"DINEX/Tracking",)"
        R"("Dimensions":[["Environment","Status"],["Environment"]],"Metrics":[{"Name":"TrackingEvents"}]}]},)"
        R"("Environment":"dev","Status":"IN_TRANSIT","Requests":1,"Latency":12.5,"TrackingEvents":1})"
        "\n");
}

TEST(Emf, LookupExactLineWithoutEmptyFields) {
    const emf::access_fields access{
        .request_id = "r1", .method = "GET", .route = "/tracking", .bytes_out = 812, .note = {}};
    EXPECT_EQ(
        emf::invocation_lines("prod", t0, 200, 0.084, &access, {}),
        R"({"request_id":"r1","method":"GET","route":"/tracking","status":200,"bytes_out":812,)"
        R"("_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
        R"("Dimensions":[["Environment"],[]],"Metrics":[{"Name":"Requests"},)"
        R"({"Name":"Latency","Unit":"Milliseconds"}]}]},"Environment":"prod","Requests":1,"Latency":0.084})"
        "\n");
}

TEST(Emf, WithoutAccessFieldsOnlyTheMetrics) {
    const auto doc = only_document(request(503, 2));
    for (const char* name : {"request_id", "method", "route", "status", "bytes_out"})
        EXPECT_FALSE(doc.contains(name));
    EXPECT_EQ(doc.at("ServerErrors").to_number<int>(), 1);
}

TEST(Emf, StatusClassesCountOnceAndZeroIsLeftOut) {
    for (int s : {200, 201, 204, 301, 399}) {
        const auto doc = only_document(request(s));
        EXPECT_FALSE(doc.contains("ServerErrors")) << s;
        EXPECT_FALSE(doc.contains("ClientErrors")) << s;
    }
    for (int s : {400, 404, 409, 422, 429, 499}) {
        const auto doc = only_document(request(s));
        EXPECT_FALSE(doc.contains("ServerErrors")) << s;
        EXPECT_EQ(doc.at("ClientErrors").to_number<int>(), 1) << s;
    }
    for (int s : {500, 502, 503, 504, 599}) {
        const auto doc = only_document(request(s));
        EXPECT_EQ(doc.at("ServerErrors").to_number<int>(), 1) << s;
        EXPECT_FALSE(doc.contains("ClientErrors")) << s;
    }
    EXPECT_EQ(only_document(request(503)).at("Requests").to_number<int>(), 1);
    EXPECT_EQ(only_document(request(503)).at("Environment").as_string(), "prod");
}

TEST(Emf, OneStatusIsCountedInTheRequestDocument) {
    const auto doc = only_document(
        request(200, 1, {status::return_to_sender, status::return_to_sender, status::return_to_sender}));
    EXPECT_EQ(doc.at("Status").as_string(), "RETURN_TO_SENDER");
    EXPECT_EQ(doc.at("TrackingEvents").to_number<int>(), 3);
    EXPECT_EQ(doc.at("Requests").to_number<int>(), 1);
}

TEST(Emf, EachFurtherStatusIsOneMoreDocumentInFirstStoredOrder) {
    const auto text =
        request(200, 1, {status::delivered, status::exception, status::delivered, status::cancelled});
    const auto lines = lines_of(text);
    ASSERT_EQ(lines.size(), 3U) << text;
    std::vector<std::pair<std::string, int>> counted;
    for (const auto& line : lines) {
        const auto doc = json::parse(line).as_object();
        counted.emplace_back(std::string(doc.at("Status").as_string()),
                             doc.at("TrackingEvents").to_number<int>());
        EXPECT_EQ(doc.at("Environment").as_string(), "prod");
        EXPECT_EQ(doc.at("_aws").at("Timestamp").as_int64(), t0);
    }
    EXPECT_EQ(counted, (std::vector<std::pair<std::string, int>>{
                           {"DELIVERED", 2}, {"EXCEPTION", 1}, {"CANCELLED", 1}}));
    // Requests is counted once, in the first document only.
    EXPECT_TRUE(json::parse(lines[0]).as_object().contains("Requests"));
    EXPECT_FALSE(json::parse(lines[1]).as_object().contains("Requests"));
    EXPECT_EQ(
        lines[1],
        R"({"_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
        R"("Dimensions":[["Environment","Status"],["Environment"]],"Metrics":[{"Name":"TrackingEvents"}]}]},)"
        R"("Environment":"prod","Status":"EXCEPTION","TrackingEvents":1})"
        "\n");
}

TEST(Emf, NotificationBatchExactLine) {
    const emf::batch_fields batch{.aws_request_id = "a-1",
                                  .records = 5,
                                  .ignored = 1,
                                  .retried = 1,
                                  .notifier = "sns",
                                  .duration_ms = 20.5};
    EXPECT_EQ(
        emf::notification_lines("prod", t0, 3, 1, 0, &batch),
        R"({"aws_request_id":"a-1","records":5,"ignored":1,"retried":1,"notifier":"sns","duration_ms":20.5,)"
        R"("_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
        R"("Dimensions":[["Environment"],[]],"Metrics":[{"Name":"NotificationsSent"},)"
        R"({"Name":"NotificationFailures"}]}]},)"
        R"("Environment":"prod","NotificationsSent":3,"NotificationFailures":1})"
        "\n");
    const auto quiet = only_document(emf::notification_lines("prod", t0, 0, 0, 2, nullptr));
    EXPECT_EQ(quiet.at("NotificationsSent").to_number<int>(), 0);
    EXPECT_FALSE(quiet.contains("NotificationFailures"));
    EXPECT_EQ(quiet.at("MalformedStreamRecords").to_number<int>(), 2);
    EXPECT_FALSE(quiet.contains("records"));
}

TEST(Emf, NumbersAreJsonNumbers) {
    auto latency = [](double ms) { return only_document(request(200, ms)).at("Latency"); };
    EXPECT_EQ(json::serialize(latency(0)), "0");
    EXPECT_EQ(json::serialize(latency(3)), "3");
    EXPECT_DOUBLE_EQ(latency(0.0004).to_number<double>(), 0);  // three decimals at most
    EXPECT_DOUBLE_EQ(latency(1.2345).to_number<double>(), 1.234);
    EXPECT_DOUBLE_EQ(latency(1500.25).to_number<double>(), 1500.25);
    EXPECT_EQ(json::serialize(latency(-2)), "0");
    EXPECT_EQ(json::serialize(latency(std::numeric_limits<double>::quiet_NaN())), "0");
    EXPECT_EQ(json::serialize(latency(std::numeric_limits<double>::infinity())), "0");
}

TEST(Emf, StringsAreEscaped) {
    const emf::access_fields access{
        .request_id = "q\"r", .method = "GET", .route = "/", .bytes_in = 0, .bytes_out = 0, .note = "a\nb"};
    const auto line = emf::invocation_lines("a\"b\\c\n", t0, 200, 1, &access, {});
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
    const auto doc = json::parse(line).as_object();
    EXPECT_EQ(doc.at("Environment").as_string(), "a\"b\\c\n");
    EXPECT_EQ(doc.at("request_id").as_string(), "q\"r");
    EXPECT_EQ(doc.at("note").as_string(), "a\nb");
}

// Structure the specification requires, checked on every document.
void expect_valid_emf(const std::string& line) {
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\n');
    const auto root = json::parse(line).as_object();
    const auto& aws = root.at("_aws").as_object();
    EXPECT_EQ(aws.size(), 2U);
    EXPECT_TRUE(aws.at("Timestamp").is_int64());
    std::size_t metrics = 0;
    for (const auto& directive_value : aws.at("CloudWatchMetrics").as_array()) {
        const auto& d = directive_value.as_object();
        EXPECT_EQ(d.size(), 3U);
        EXPECT_EQ(d.at("Namespace").as_string(), "DINEX/Tracking");
        for (const auto& set : d.at("Dimensions").as_array()) {
            EXPECT_LE(set.as_array().size(), 30U);
            for (const auto& name : set.as_array()) {
                ASSERT_TRUE(root.contains(name.as_string())) << name;
                EXPECT_TRUE(root.at(name.as_string()).is_string()) << name;
            }
        }
        for (const auto& m : d.at("Metrics").as_array()) {
            const auto& def = m.as_object();
            const auto name = def.at("Name").as_string();
            ASSERT_TRUE(root.contains(name)) << name;
            EXPECT_TRUE(root.at(name).is_number()) << name;
            if (const auto* unit = def.if_contains("Unit")) {
                EXPECT_EQ(unit->as_string(), "Milliseconds") << name;
            }
            ++metrics;
        }
    }
    EXPECT_GT(metrics, 0U);
}

TEST(Emf, DocumentsFollowTheSpecification) {
    const emf::access_fields access{.request_id = "r",
                                    .method = "POST",
                                    .route = "/tracking/batch",
                                    .bytes_in = 9,
                                    .bytes_out = 0,
                                    .note = {}};
    std::vector<status> every(core::all_statuses.begin(), core::all_statuses.end());
    for (int s : {200, 201, 404, 503}) {
        for (const auto& line : lines_of(emf::invocation_lines("dev", t0, s, 7.25, &access, every))) {
            expect_valid_emf(line);
        }
        expect_valid_emf(request(s));
    }
    expect_valid_emf(emf::notification_lines("dev", t0, 0, 0, 0, nullptr));
    expect_valid_emf(emf::notification_lines("dev", t0, 2, 1, 1, nullptr));
}

TEST(Emf, WriteLineWritesEverything) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string line = request(200);
    EXPECT_TRUE(emf::write_line(fds[1], line));
    ::close(fds[1]);
    std::string got(line.size() + 16, '\0');
    const auto n = ::read(fds[0], got.data(), got.size());
    ::close(fds[0]);
    ASSERT_GT(n, 0);
    got.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(got, line);
    EXPECT_FALSE(emf::write_line(-1, line));
}

TEST(Emf, NowIsEpochMilliseconds) {
    const auto now = emf::now_ms();
    EXPECT_GT(now, 1'700'000'000'000);  // 2023 in ms, not seconds
    EXPECT_LT(now, 4'102'444'800'000);  // before 2100
}

}  // namespace
}  // namespace dinex::obs

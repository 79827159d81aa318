// The CloudWatch Embedded Metric Format writer: exact lines, and the structure the EMF
// specification requires (every referenced dimension and metric is a root member, dimension values
// are strings, metric values numbers, Timestamp in epoch ms).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <limits>
#include <string>

#include "obs/emf.hpp"

namespace dinex::obs {
namespace {

namespace json = boost::json;
constexpr std::int64_t t0 = 1'764'432'000'123;

TEST(Emf, RequestMetricsExactLine) {
    EXPECT_EQ(emf::request_metrics("dev", t0, 201, 12.5),
              R"({"_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
              R"("Dimensions":[["Environment"],[]],"Metrics":[{"Name":"Requests","Unit":"Count"},)"
              R"({"Name":"ServerErrors","Unit":"Count"},{"Name":"ClientErrors","Unit":"Count"},)"
              R"({"Name":"Latency","Unit":"Milliseconds"}]}]},"Environment":"dev","Requests":1,)"
              R"("ServerErrors":0,"ClientErrors":0,"Latency":12.5})"
              "\n");
}

TEST(Emf, StatusClassesCountOnce) {
    auto doc = [](int status) {
        return json::parse(emf::request_metrics("prod", t0, status, 1)).as_object();
    };
    for (int s : {200, 201, 204, 301, 399}) {
        EXPECT_EQ(doc(s).at("ServerErrors").to_number<int>(), 0) << s;
        EXPECT_EQ(doc(s).at("ClientErrors").to_number<int>(), 0) << s;
    }
    for (int s : {400, 404, 409, 422, 429, 499}) {
        EXPECT_EQ(doc(s).at("ServerErrors").to_number<int>(), 0) << s;
        EXPECT_EQ(doc(s).at("ClientErrors").to_number<int>(), 1) << s;
    }
    for (int s : {500, 502, 503, 504, 599}) {
        EXPECT_EQ(doc(s).at("ServerErrors").to_number<int>(), 1) << s;
        EXPECT_EQ(doc(s).at("ClientErrors").to_number<int>(), 0) << s;
    }
    EXPECT_EQ(doc(503).at("Requests").to_number<int>(), 1);
    EXPECT_EQ(doc(503).at("Environment").as_string(), "prod");
}

TEST(Emf, TrackingEventExactLine) {
    EXPECT_EQ(emf::tracking_event_metrics("staging", t0, core::status::out_for_delivery),
              R"({"_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
              R"("Dimensions":[["Environment","Status"],["Environment"]],)"
              R"("Metrics":[{"Name":"TrackingEvents","Unit":"Count"}]}]},)"
              R"("Environment":"staging","Status":"OUT_FOR_DELIVERY","TrackingEvents":1})"
              "\n");
}

TEST(Emf, NotificationBatchExactLine) {
    EXPECT_EQ(emf::notification_metrics("prod", t0, 3, 1, 0),
              R"({"_aws":{"Timestamp":1764432000123,"CloudWatchMetrics":[{"Namespace":"DINEX/Tracking",)"
              R"("Dimensions":[["Environment"],[]],"Metrics":[{"Name":"NotificationsSent","Unit":"Count"},)"
              R"({"Name":"NotificationFailures","Unit":"Count"},{"Name":"MalformedStreamRecords","Unit":"Count"}]}]},)"
              R"("Environment":"prod","NotificationsSent":3,"NotificationFailures":1,"MalformedStreamRecords":0})"
              "\n");
}

TEST(Emf, NumbersAreJsonNumbers) {
    auto latency = [](double ms) {
        return json::parse(emf::request_metrics("dev", t0, 200, ms)).as_object().at("Latency");
    };
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
    const auto line = emf::request_metrics("a\"b\\c\n", t0, 200, 1);
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
    EXPECT_EQ(json::parse(line).as_object().at("Environment").as_string(), "a\"b\\c\n");
}

// Structure the specification requires, checked on both documents.
void expect_valid_emf(const std::string& line) {
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\n');
    const auto root = json::parse(line).as_object();
    const auto& aws = root.at("_aws").as_object();
    EXPECT_EQ(aws.size(), 2U);
    EXPECT_TRUE(aws.at("Timestamp").is_int64());
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
            const auto unit = def.at("Unit").as_string();
            EXPECT_TRUE(unit == "Count" || unit == "Milliseconds") << unit;
        }
    }
}

TEST(Emf, DocumentsFollowTheSpecification) {
    expect_valid_emf(emf::request_metrics("dev", t0, 503, 7.25));
    for (auto s : core::all_statuses) expect_valid_emf(emf::tracking_event_metrics("dev", t0, s));
}

TEST(Emf, WriteLineWritesEverything) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string line = emf::request_metrics("dev", t0, 200, 1);
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

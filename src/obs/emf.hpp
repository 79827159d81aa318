#pragma once
// CloudWatch Embedded Metric Format (EMF): one JSON object per line that CloudWatch Logs turns into
// metrics. Used by the Lambda front-end, whose stdout is the function's log stream.
//
// The document, as the EMF specification defines it:
//   {"_aws":{"Timestamp":<epoch ms>,
//            "CloudWatchMetrics":[{"Namespace":"...","Dimensions":[["Dim",...],[]],
//                                  "Metrics":[{"Name":"...","Unit":"..."}]}]},
//    "Dim":"value", ..., "Metric":<number>, ...}
// Every dimension named in a dimension set, and every metric, is a member of the root object;
// dimension values are strings, metric values numbers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.hpp"

namespace dinex::obs::emf {

inline constexpr std::string_view metric_namespace = "DINEX/Tracking";

// CloudWatch units used here (the full list is CloudWatch's StandardUnit).
inline constexpr std::string_view count = "Count";
inline constexpr std::string_view milliseconds = "Milliseconds";

struct metric {
    std::string_view name;
    std::string_view unit;
    double value = 0;
};

struct document {
    std::string_view metric_namespace = emf::metric_namespace;
    std::int64_t timestamp_ms = 0;  // Unix epoch milliseconds
    // Root members that carry the dimension values, in output order.
    std::vector<std::pair<std::string_view, std::string_view>> dimensions;
    // Dimension sets (each a list of dimension names, possibly empty: "no dimension").
    std::vector<std::vector<std::string_view>> dimension_sets;
    std::vector<metric> metrics;
};

// The document as one line of JSON, ending in '\n'. Integral values are written without a
// fraction ("1"), others with at most three decimals; a value that is not finite is written as 0.
std::string format(const document& doc);

// One answered API request: Requests 1, ServerErrors (5xx) and ClientErrors (4xx) 0 or 1, Latency
// in ms. Dimension sets [["Environment"], []].
std::string request_metrics(std::string_view environment, std::int64_t timestamp_ms, int http_status,
                            double latency_ms);

// One accepted (newly stored) tracking event: TrackingEvents 1 with dimension sets
// [["Environment", "Status"], ["Environment"]]. The status label comes from the fixed list.
std::string tracking_event_metrics(std::string_view environment, std::int64_t timestamp_ms,
                                   core::status status);

// One DynamoDB Streams batch of the notification consumer: NotificationsSent, NotificationFailures
// (publishes that failed and will be retried by Lambda) and MalformedStreamRecords (skipped for
// good). Dimension sets [["Environment"], []]. The NotificationFailures alarm reads this line.
std::string notification_metrics(std::string_view environment, std::int64_t timestamp_ms, std::uint64_t sent,
                                 std::uint64_t failures, std::uint64_t malformed);

// Current time in Unix epoch milliseconds.
std::int64_t now_ms() noexcept;

// Writes `line` to `fd` with as few write(2) calls as possible (one, for any line below PIPE_BUF,
// so it never interleaves with other writers of the same pipe). Returns false on a write error.
bool write_line(int fd, std::string_view line) noexcept;

}  // namespace dinex::obs::emf

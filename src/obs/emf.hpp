#pragma once
// CloudWatch Embedded Metric Format (EMF): one JSON object per line that CloudWatch Logs turns into
// metrics. Used by the Lambda front-end, whose stdout is the function's log stream.
//
// The document, as the EMF specification defines it:
//   {"_aws":{"Timestamp":<epoch ms>,
//            "CloudWatchMetrics":[{"Namespace":"...","Dimensions":[["Dim",...],[]],
//                                  "Metrics":[{"Name":"...","Unit":"..."}]}, ...]},
//    "Dim":"value", ..., "Metric":<number>, ...}
// Every dimension named in a dimension set, and every metric, is a member of the root object;
// dimension values are strings, metric values numbers. Other root members are kept by CloudWatch
// as log properties: the Lambda's access fields ride in the same document (one line per
// invocation, docs/OBSERVABILITY-LAMBDA.md).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/model.hpp"

namespace dinex::obs::emf {

inline constexpr std::string_view metric_namespace = "DINEX/Tracking";

// CloudWatch units used here (the full list is CloudWatch's StandardUnit). Counts go without a
// unit (CloudWatch's None): the metric's name says what it counts, and the bytes are paid per line.
inline constexpr std::string_view no_unit{};
inline constexpr std::string_view milliseconds = "Milliseconds";

struct metric {
    std::string_view name;
    std::string_view unit;  // empty: no "Unit" member
    double value = 0;
};

// One entry of CloudWatchMetrics: the dimension sets (each a list of dimension names, possibly
// empty: "no dimension") and the metrics published with each of them.
struct directive {
    std::vector<std::vector<std::string_view>> dimension_sets;
    std::vector<metric> metrics;
};

// A root member that is neither a dimension nor a metric (an access field).
struct property {
    std::string_view name;
    std::variant<std::string_view, std::int64_t, double> value;
};

struct document {
    std::string_view metric_namespace = emf::metric_namespace;
    std::int64_t timestamp_ms = 0;  // Unix epoch milliseconds
    // Written first, in order; an empty string value is left out.
    std::vector<property> properties;
    // Root members that carry the dimension values, in output order.
    std::vector<std::pair<std::string_view, std::string_view>> dimensions;
    std::vector<directive> directives;
};

// The document as one line of JSON, ending in '\n'. Integral values are written without a
// fraction ("1"), others with at most three decimals; a value that is not finite is written as 0.
std::string format(const document& doc);

// What the access log says of one answered API request (the fixed route label, never the raw
// path). Fields that API Gateway's access log, the EMF Timestamp or CloudWatch already hold are not
// repeated (the client's address, the time, Lambda's request id: docs/OBSERVABILITY-LAMBDA.md).
struct access_fields {
    std::string_view request_id;  // API Gateway's (X-Request-Id), the join key with its access log
    std::string_view method;
    std::string_view route;
    std::size_t bytes_in = 0;  // left out when 0
    std::size_t bytes_out = 0;
    std::string_view note;  // the application's word for the operator; left out when empty
};

// The lines of one answered API request: one document with the access fields (when `access` is
// given: the log level includes info) and Requests 1, Latency in ms, ServerErrors 1 on a 5xx and
// ClientErrors 1 on a 4xx (left out when 0: a missing value sums as none), dimension sets
// [["Environment"], []]. The events the invocation stored (`stored`, in answer order) are counted
// as TrackingEvents with dimension sets [["Environment", "Status"], ["Environment"]]: the first
// status's count in the same document, each further status in one more document (an EMF document
// carries one value per dimension). Status labels come from the fixed list.
std::string invocation_lines(std::string_view environment, std::int64_t timestamp_ms, int http_status,
                             double latency_ms, const access_fields* access,
                             std::span<const core::status> stored);

// What the stream consumer's log says of one DynamoDB Streams batch.
struct batch_fields {
    std::string_view aws_request_id;  // no API Gateway here: Lambda's id is the only one
    std::int64_t records = 0;
    std::int64_t ignored = 0;
    std::int64_t retried = 0;
    std::string_view notifier;
    double duration_ms = 0;
};

// One DynamoDB Streams batch of the notification consumer, one document: the batch fields (when
// given), NotificationsSent, NotificationFailures (publishes that failed and will be retried by
// Lambda) and MalformedStreamRecords (skipped for good), the last two left out when 0; dimension
// sets [["Environment"], []]. The NotificationFailures alarm reads it. (No Latency: that metric is
// the API's handler time.)
std::string notification_lines(std::string_view environment, std::int64_t timestamp_ms, std::uint64_t sent,
                               std::uint64_t failures, std::uint64_t malformed, const batch_fields* batch);

// Current time in Unix epoch milliseconds.
std::int64_t now_ms() noexcept;

// Writes `line` to `fd` with as few write(2) calls as possible (one, for any line below PIPE_BUF,
// so it never interleaves with other writers of the same pipe). Returns false on a write error.
bool write_line(int fd, std::string_view line) noexcept;

}  // namespace dinex::obs::emf

#include "obs/emf.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "text/json_string.hpp"

namespace dinex::obs::emf {
namespace {

void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    text::append_json_escaped(out, s);
    out.push_back('"');
}

void append_number(std::string& out, double v) {
    if (!std::isfinite(v)) v = 0;
    char buf[64];
    std::to_chars_result r{};
    if (v == std::trunc(v) && std::fabs(v) < 1e15) {
        r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    } else {
        r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
        // "12.500" -> "12.5"
        char* end = r.ptr;
        while (end > buf && end[-1] == '0') --end;
        if (end > buf && end[-1] == '.') --end;
        r.ptr = end;
    }
    out.append(buf, r.ptr);
}

}  // namespace

std::string format(const document& doc) {
    std::string out;
    out.reserve(256 + 48 * doc.metrics.size());
    out.append(R"({"_aws":{"Timestamp":)");
    append_number(out, static_cast<double>(doc.timestamp_ms));
    out.append(R"(,"CloudWatchMetrics":[{"Namespace":)");
    append_string(out, doc.metric_namespace);
    out.append(R"(,"Dimensions":[)");
    for (std::size_t i = 0; i < doc.dimension_sets.size(); ++i) {
        if (i) out.push_back(',');
        out.push_back('[');
        for (std::size_t j = 0; j < doc.dimension_sets[i].size(); ++j) {
            if (j) out.push_back(',');
            append_string(out, doc.dimension_sets[i][j]);
        }
        out.push_back(']');
    }
    out.append(R"(],"Metrics":[)");
    for (std::size_t i = 0; i < doc.metrics.size(); ++i) {
        if (i) out.push_back(',');
        out.append(R"({"Name":)");
        append_string(out, doc.metrics[i].name);
        out.append(R"(,"Unit":)");
        append_string(out, doc.metrics[i].unit);
        out.push_back('}');
    }
    out.append("]}]}");
    for (const auto& [name, value] : doc.dimensions) {
        out.push_back(',');
        append_string(out, name);
        out.push_back(':');
        append_string(out, value);
    }
    for (const auto& m : doc.metrics) {
        out.push_back(',');
        append_string(out, m.name);
        out.push_back(':');
        append_number(out, m.value);
    }
    out.append("}\n");
    return out;
}

std::string request_metrics(std::string_view environment, std::int64_t timestamp_ms, int http_status,
                            double latency_ms) {
    document doc;
    doc.timestamp_ms = timestamp_ms;
    doc.dimensions = {{"Environment", environment}};
    doc.dimension_sets = {{"Environment"}, {}};
    doc.metrics = {
        {"Requests", count, 1},
        {"ServerErrors", count, http_status >= 500 && http_status <= 599 ? 1.0 : 0.0},
        {"ClientErrors", count, http_status >= 400 && http_status <= 499 ? 1.0 : 0.0},
        {"Latency", milliseconds, latency_ms < 0 ? 0.0 : latency_ms},
    };
    return format(doc);
}

std::string notification_metrics(std::string_view environment, std::int64_t timestamp_ms, std::uint64_t sent,
                                 std::uint64_t failures, std::uint64_t malformed) {
    document doc;
    doc.timestamp_ms = timestamp_ms;
    doc.dimensions = {{"Environment", environment}};
    doc.dimension_sets = {{"Environment"}, {}};
    doc.metrics = {{"NotificationsSent", count, static_cast<double>(sent)},
                   {"NotificationFailures", count, static_cast<double>(failures)},
                   {"MalformedStreamRecords", count, static_cast<double>(malformed)}};
    return format(doc);
}

std::string tracking_event_metrics(std::string_view environment, std::int64_t timestamp_ms,
                                   core::status status) {
    document doc;
    doc.timestamp_ms = timestamp_ms;
    doc.dimensions = {{"Environment", environment}, {"Status", core::to_string(status)}};
    doc.dimension_sets = {{"Environment", "Status"}, {"Environment"}};
    doc.metrics = {{"TrackingEvents", count, 1}};
    return format(doc);
}

std::int64_t now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool write_line(int fd, std::string_view line) noexcept {
    while (!line.empty()) {
        const ssize_t n = ::write(fd, line.data(), line.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        line.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace dinex::obs::emf

#include "obs/emf.hpp"

#include <unistd.h>

#include <algorithm>
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

void append_value(std::string& out, const property& p) {
    if (const auto* s = std::get_if<std::string_view>(&p.value)) {
        append_string(out, *s);
    } else if (const auto* i = std::get_if<std::int64_t>(&p.value)) {
        char buf[24];
        out.append(buf, std::to_chars(buf, buf + sizeof buf, *i).ptr);
    } else {
        append_number(out, std::get<double>(p.value));
    }
}

bool is_empty_string(const property& p) {
    const auto* s = std::get_if<std::string_view>(&p.value);
    return s != nullptr && s->empty();
}

constexpr std::string_view environment_dimension = "Environment";
constexpr std::string_view status_dimension = "Status";

// The request metrics' and the notification metrics' dimension sets.
std::vector<std::vector<std::string_view>> by_environment_and_all() { return {{environment_dimension}, {}}; }

directive tracking_events(std::size_t count) {
    return {{{environment_dimension, status_dimension}, {environment_dimension}},
            {{"TrackingEvents", no_unit, static_cast<double>(count)}}};
}

}  // namespace

std::string format(const document& doc) {
    std::string out;
    out.reserve(192 + 40 * doc.properties.size());
    out.push_back('{');
    for (const auto& p : doc.properties) {
        if (is_empty_string(p)) continue;
        append_string(out, p.name);
        out.push_back(':');
        append_value(out, p);
        out.push_back(',');
    }
    out.append(R"("_aws":{"Timestamp":)");
    append_number(out, static_cast<double>(doc.timestamp_ms));
    out.append(R"(,"CloudWatchMetrics":[)");
    for (std::size_t d = 0; d < doc.directives.size(); ++d) {
        const directive& dir = doc.directives[d];
        if (d) out.push_back(',');
        out.append(R"({"Namespace":)");
        append_string(out, doc.metric_namespace);
        out.append(R"(,"Dimensions":[)");
        for (std::size_t i = 0; i < dir.dimension_sets.size(); ++i) {
            if (i) out.push_back(',');
            out.push_back('[');
            for (std::size_t j = 0; j < dir.dimension_sets[i].size(); ++j) {
                if (j) out.push_back(',');
                append_string(out, dir.dimension_sets[i][j]);
            }
            out.push_back(']');
        }
        out.append(R"(],"Metrics":[)");
        for (std::size_t i = 0; i < dir.metrics.size(); ++i) {
            if (i) out.push_back(',');
            out.append(R"({"Name":)");
            append_string(out, dir.metrics[i].name);
            if (!dir.metrics[i].unit.empty()) {
                out.append(R"(,"Unit":)");
                append_string(out, dir.metrics[i].unit);
            }
            out.push_back('}');
        }
        out.append("]}");
    }
    out.append("]}");
    for (const auto& [name, value] : doc.dimensions) {
        out.push_back(',');
        append_string(out, name);
        out.push_back(':');
        append_string(out, value);
    }
    for (const auto& dir : doc.directives) {
        for (const auto& m : dir.metrics) {
            out.push_back(',');
            append_string(out, m.name);
            out.push_back(':');
            append_number(out, m.value);
        }
    }
    out.append("}\n");
    return out;
}

std::string invocation_lines(std::string_view environment, std::int64_t timestamp_ms, int http_status,
                             double latency_ms, const access_fields* access,
                             std::span<const core::status> stored) {
    // Counts per status, in the order the statuses were first stored.
    std::vector<std::pair<core::status, std::size_t>> by_status;
    for (const auto s : stored) {
        auto it =
            std::find_if(by_status.begin(), by_status.end(), [s](const auto& e) { return e.first == s; });
        if (it == by_status.end()) {
            by_status.emplace_back(s, 1);
        } else {
            ++it->second;
        }
    }

    document doc;
    doc.timestamp_ms = timestamp_ms;
    if (access != nullptr) {
        doc.properties = {{"request_id", access->request_id},
                          {"method", access->method},
                          {"route", access->route},
                          {"status", std::int64_t{http_status}}};
        if (access->bytes_in > 0) {
            doc.properties.push_back({"bytes_in", static_cast<std::int64_t>(access->bytes_in)});
        }
        doc.properties.push_back({"bytes_out", static_cast<std::int64_t>(access->bytes_out)});
        doc.properties.push_back({"note", access->note});
    }
    doc.dimensions = {{environment_dimension, environment}};
    directive requests{by_environment_and_all(), {{"Requests", no_unit, 1}}};
    if (http_status >= 500 && http_status <= 599) requests.metrics.push_back({"ServerErrors", no_unit, 1});
    if (http_status >= 400 && http_status <= 499) requests.metrics.push_back({"ClientErrors", no_unit, 1});
    requests.metrics.push_back({"Latency", milliseconds, latency_ms < 0 ? 0.0 : latency_ms});
    doc.directives.push_back(std::move(requests));
    if (!by_status.empty()) {
        doc.dimensions.emplace_back(status_dimension, core::to_string(by_status.front().first));
        doc.directives.push_back(tracking_events(by_status.front().second));
    }
    std::string out = format(doc);
    for (std::size_t i = 1; i < by_status.size(); ++i) {
        document more;
        more.timestamp_ms = timestamp_ms;
        more.dimensions = {{environment_dimension, environment},
                           {status_dimension, core::to_string(by_status[i].first)}};
        more.directives = {tracking_events(by_status[i].second)};
        out += format(more);
    }
    return out;
}

std::string notification_lines(std::string_view environment, std::int64_t timestamp_ms, std::uint64_t sent,
                               std::uint64_t failures, std::uint64_t malformed, const batch_fields* batch) {
    document doc;
    doc.timestamp_ms = timestamp_ms;
    if (batch != nullptr) {
        doc.properties = {{"aws_request_id", batch->aws_request_id},
                          {"records", batch->records},
                          {"ignored", batch->ignored},
                          {"retried", batch->retried},
                          {"notifier", batch->notifier},
                          {"duration_ms", batch->duration_ms}};
    }
    doc.dimensions = {{environment_dimension, environment}};
    directive notifications{by_environment_and_all(),
                            {{"NotificationsSent", no_unit, static_cast<double>(sent)}}};
    if (failures > 0) {
        notifications.metrics.push_back({"NotificationFailures", no_unit, static_cast<double>(failures)});
    }
    if (malformed > 0) {
        notifications.metrics.push_back({"MalformedStreamRecords", no_unit, static_cast<double>(malformed)});
    }
    doc.directives.push_back(std::move(notifications));
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

#pragma once
// Metrics: plain counters owned by the components that count, with label values from fixed lists
// (never a tracking id or a raw path). Updates are lock-free and allocation-free: each series is a
// slot in per-shard arrays of relaxed atomics (a thread keeps to one shard, so two I/O threads do
// not bounce one cache line). A registry lists the families for a scrape; the Prometheus text
// format is one adapter over it (`write_prometheus`), nothing else knows that format.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dinex::obs {

// N slots of uint64 counters, kept once per shard; a thread adds to its own shard, a scrape sums.
class sharded_counters {
public:
    explicit sharded_counters(std::size_t slots);
    ~sharded_counters();
    sharded_counters(const sharded_counters&) = delete;
    sharded_counters& operator=(const sharded_counters&) = delete;

    void add(std::size_t slot, std::uint64_t n = 1) noexcept {
        shards_[shard_of_this_thread()][slot].fetch_add(n, std::memory_order_relaxed);
    }
    std::uint64_t sum(std::size_t slot) const noexcept;
    std::size_t size() const noexcept { return slots_; }

    static constexpr std::size_t shard_count = 8;

private:
    static std::size_t shard_of_this_thread() noexcept;
    std::size_t slots_;
    std::array<std::atomic<std::uint64_t>*, shard_count> shards_{};
};

// One label: its name and every value it may take.
struct label_dimension {
    std::string_view name;
    std::span<const std::string_view> values;
};

// What a scrape sees of one series.
struct sample {
    std::string_view suffix;  // "", "_bucket", "_sum", "_count" (a counter's family name ends in _total)
    std::vector<std::pair<std::string_view, std::string>> labels;
    double value = 0;
};

enum class metric_type { counter, gauge, histogram };

struct family_snapshot {
    std::string_view name;
    std::string_view help;
    metric_type type = metric_type::counter;
    std::vector<sample> samples;
};

class family {
public:
    virtual ~family() = default;
    virtual family_snapshot collect() const = 0;
};

// A counter over the cartesian product of fixed label lists. A series that never moved is still
// written (as 0), so rates and alerts see it from the first scrape.
class counter_family final : public family {
public:
    // keep_zeros false: series still at 0 are left out (for wide products, such as route x method x code).
    counter_family(std::string_view name, std::string_view help, std::vector<label_dimension> dims,
                   bool keep_zeros = true);
    // `slot({i, j, ...})`: one position per dimension, in the order of `dims`.
    void inc(std::size_t slot, std::uint64_t n = 1) noexcept { counts_.add(slot, n); }
    std::size_t slot(std::initializer_list<std::size_t> positions) const noexcept;
    std::uint64_t value(std::size_t slot) const noexcept { return counts_.sum(slot); }
    family_snapshot collect() const override;

private:
    std::string_view name_, help_;
    std::vector<label_dimension> dims_;
    bool keep_zeros_;
    sharded_counters counts_;
};

// A histogram of durations in seconds, fixed buckets; the sum is kept in nanoseconds.
class histogram_family final : public family {
public:
    histogram_family(std::string_view name, std::string_view help, std::vector<label_dimension> dims,
                     std::span<const double> bounds);
    void observe(std::size_t slot, double seconds) noexcept;
    std::size_t slot(std::initializer_list<std::size_t> positions) const noexcept;
    std::uint64_t count(std::size_t slot) const noexcept;
    family_snapshot collect() const override;

private:
    std::string_view name_, help_;
    std::vector<label_dimension> dims_;
    std::span<const double> bounds_;
    std::size_t stride_;  // bounds + 1 (+Inf) + 1 (sum)
    sharded_counters cells_;
};

// A gauge whose series are read when scraped (build info, process figures).
class gauge_family final : public family {
public:
    using reader = std::function<std::vector<sample>()>;
    gauge_family(std::string_view name, std::string_view help, reader read,
                 metric_type type = metric_type::gauge);
    family_snapshot collect() const override;

private:
    std::string_view name_, help_;
    reader read_;
    metric_type type_;
};

// Lists the families to scrape. Registering takes a lock; counting never does.
class registry {
public:
    void add(const family& f);
    void remove(const family& f);
    std::vector<family_snapshot> collect() const;

private:
    mutable std::mutex mutex_;
    std::vector<const family*> families_;
};

// The Prometheus text exposition format 0.0.4.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";
std::string write_prometheus(const std::vector<family_snapshot>& families);

// Escaping of the text format: HELP escapes \ and newline; label values also escape ".
void append_help_escaped(std::string& out, std::string_view s);
void append_label_escaped(std::string& out, std::string_view s);

// Latency buckets shared by every duration histogram: 0.5 ms … 5 s.
inline constexpr std::array<double, 13> duration_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,    0.25,  0.5,    1.0,   2.5,  5.0};

// process_resident_memory_bytes, process_open_fds, process_cpu_seconds_total,
// process_start_time_seconds, process_max_fds: read from /proc at scrape time.
class process_metrics {
public:
    process_metrics();
    void register_in(registry& r) const;

private:
    std::vector<std::unique_ptr<gauge_family>> families_;
};

// dinex_build_info{version,store} 1.
class build_info {
public:
    build_info(std::string version, std::string store);
    void register_in(registry& r) const { r.add(family_); }

private:
    std::string version_, store_;
    gauge_family family_;
};

// The fixed label lists of the HTTP front-end, shared by the server and its tests.
namespace http_labels {
inline constexpr std::array<std::string_view, 12> routes = {"/tracking",
                                                            "/health",
                                                            "/",
                                                            "/assets",
                                                            "/metrics",
                                                            "/tracking/batch",
                                                            "/packages",
                                                            "/subscriptions",
                                                            "/subscriptions/{id}",
                                                            "/subscriptions/{id}/deliveries",
                                                            "unmatched",
                                                            "unparsed"};
inline constexpr std::array<std::string_view, 7> methods = {"GET",    "HEAD",    "POST", "PATCH",
                                                            "DELETE", "OPTIONS", "other"};
inline constexpr std::array<std::string_view, 20> codes = {"200", "201", "204", "304", "400", "401",  "403",
                                                           "404", "405", "409", "413", "414", "415",  "422",
                                                           "429", "431", "500", "503", "504", "other"};
std::size_t route_index(std::string_view route) noexcept;
std::size_t method_index(std::string_view method) noexcept;
std::size_t code_index(int status) noexcept;
}  // namespace http_labels

// Requests and their latency, counted by the HTTP front-end after each response.
class http_metrics {
public:
    http_metrics();
    void observe(std::string_view route, std::string_view method, int status, double seconds) noexcept;
    void register_in(registry& r) const;
    const counter_family& requests() const noexcept { return requests_; }
    const histogram_family& durations() const noexcept { return duration_; }

private:
    counter_family requests_;
    histogram_family duration_;
};

}  // namespace dinex::obs

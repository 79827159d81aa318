#include "obs/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

namespace dinex::obs {
namespace {

constexpr std::size_t line_slots = 64 / sizeof(std::atomic<std::uint64_t>);

std::size_t product(const std::vector<label_dimension>& dims) {
    std::size_t n = 1;
    for (const auto& d : dims) n *= d.values.size();
    return n;
}

std::size_t mixed_radix(const std::vector<label_dimension>& dims,
                        std::initializer_list<std::size_t> positions) {
    std::size_t slot = 0;
    auto p = positions.begin();
    for (const auto& d : dims) {
        const std::size_t i = p != positions.end() ? *p++ : 0;
        slot = slot * d.values.size() + std::min(i, d.values.size() - 1);
    }
    return slot;
}

// The label values of series `slot`.
std::vector<std::pair<std::string_view, std::string>> labels_of(const std::vector<label_dimension>& dims,
                                                                std::size_t slot) {
    std::vector<std::pair<std::string_view, std::string>> out(dims.size());
    for (std::size_t k = dims.size(); k-- > 0;) {
        const auto n = dims[k].values.size();
        out[k] = {dims[k].name, std::string(dims[k].values[slot % n])};
        slot /= n;
    }
    return out;
}

void append_number(std::string& out, double v) {
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string bound_text(double b) {
    std::string s;
    append_number(s, b);
    return s;
}

}  // namespace

// ---- sharded_counters ----

sharded_counters::sharded_counters(std::size_t slots) : slots_(slots) {
    // Whole cache lines per shard, so two shards never share one.
    const std::size_t padded = (slots + line_slots - 1) / line_slots * line_slots;
    for (auto& s : shards_) {
        void* raw = ::operator new (padded * sizeof(std::atomic<std::uint64_t>), std::align_val_t{64});
        s = static_cast<std::atomic<std::uint64_t>*>(raw);
        for (std::size_t i = 0; i < padded; ++i) new (&s[i]) std::atomic<std::uint64_t>(0);
    }
}

sharded_counters::~sharded_counters() {
    // std::atomic<uint64_t> is trivially destructible: only the memory goes back.
    for (auto* s : shards_) ::operator delete (s, std::align_val_t{64});
}

std::uint64_t sharded_counters::sum(std::size_t slot) const noexcept {
    std::uint64_t total = 0;
    for (const auto* s : shards_) total += s[slot].load(std::memory_order_relaxed);
    return total;
}

std::size_t sharded_counters::shard_of_this_thread() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % shard_count;
    return mine;
}

// ---- counter_family ----

counter_family::counter_family(std::string_view name, std::string_view help,
                               std::vector<label_dimension> dims, bool keep_zeros)
    : name_(name), help_(help), dims_(std::move(dims)), keep_zeros_(keep_zeros), counts_(product(dims_)) {}

std::size_t counter_family::slot(std::initializer_list<std::size_t> positions) const noexcept {
    return mixed_radix(dims_, positions);
}

family_snapshot counter_family::collect() const {
    family_snapshot f{name_, help_, metric_type::counter, {}};
    for (std::size_t s = 0; s < counts_.size(); ++s) {
        const std::uint64_t v = counts_.sum(s);
        if (v == 0 && !keep_zeros_) continue;
        f.samples.push_back({"", labels_of(dims_, s), static_cast<double>(v)});
    }
    return f;
}

// ---- histogram_family ----

histogram_family::histogram_family(std::string_view name, std::string_view help,
                                   std::vector<label_dimension> dims, std::span<const double> bounds)
    : name_(name),
      help_(help),
      dims_(std::move(dims)),
      bounds_(bounds),
      stride_(bounds.size() + 2),
      cells_(product(dims_) * stride_) {}

std::size_t histogram_family::slot(std::initializer_list<std::size_t> positions) const noexcept {
    return mixed_radix(dims_, positions);
}

void histogram_family::observe(std::size_t slot, double seconds) noexcept {
    if (!(seconds >= 0)) seconds = 0;
    // Few bounds: a linear scan beats a binary search here.
    std::size_t b = 0;
    while (b < bounds_.size() && seconds > bounds_[b]) ++b;
    const std::size_t base = slot * stride_;
    cells_.add(base + b);
    cells_.add(base + bounds_.size() + 1, static_cast<std::uint64_t>(seconds * 1e9));
}

std::uint64_t histogram_family::count(std::size_t slot) const noexcept {
    std::uint64_t n = 0;
    for (std::size_t b = 0; b <= bounds_.size(); ++b) n += cells_.sum(slot * stride_ + b);
    return n;
}

family_snapshot histogram_family::collect() const {
    family_snapshot f{name_, help_, metric_type::histogram, {}};
    const std::size_t series = cells_.size() / stride_;
    for (std::size_t s = 0; s < series; ++s) {
        if (count(s) == 0) continue;  // never observed: left out
        const auto labels = labels_of(dims_, s);
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= bounds_.size(); ++b) {
            cumulative += cells_.sum(s * stride_ + b);
            auto l = labels;
            l.emplace_back("le", b < bounds_.size() ? bound_text(bounds_[b]) : std::string("+Inf"));
            f.samples.push_back({"_bucket", std::move(l), static_cast<double>(cumulative)});
        }
        f.samples.push_back(
            {"_sum", labels, static_cast<double>(cells_.sum(s * stride_ + bounds_.size() + 1)) / 1e9});
        f.samples.push_back({"_count", labels, static_cast<double>(cumulative)});
    }
    return f;
}

// ---- gauge_family ----

gauge_family::gauge_family(std::string_view name, std::string_view help, reader read, metric_type type)
    : name_(name), help_(help), read_(std::move(read)), type_(type) {}

family_snapshot gauge_family::collect() const { return {name_, help_, type_, read_()}; }

// ---- registry ----

void registry::add(const family& f) {
    const std::lock_guard lock(mutex_);
    families_.push_back(&f);
}

void registry::remove(const family& f) {
    const std::lock_guard lock(mutex_);
    std::erase(families_, &f);
}

std::vector<family_snapshot> registry::collect() const {
    const std::lock_guard lock(mutex_);
    std::vector<family_snapshot> out;
    out.reserve(families_.size());
    for (const auto* f : families_) out.push_back(f->collect());
    return out;
}

// ---- the Prometheus text format ----

// The text format's escapes: backslash and line feed everywhere, and in label values the double quote.
void append_prometheus_escaped(std::string& out, std::string_view s, bool label_value) {
    for (const char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && label_value) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

void append_help_escaped(std::string& out, std::string_view s) { append_prometheus_escaped(out, s, false); }

void append_label_escaped(std::string& out, std::string_view s) { append_prometheus_escaped(out, s, true); }

std::string write_prometheus(const std::vector<family_snapshot>& families) {
    std::string out;
    out.reserve(std::size_t{16} * 1024);
    for (const auto& f : families) {
        out += "# HELP ";
        out += f.name;
        out += ' ';
        append_help_escaped(out, f.help);
        out += "\n# TYPE ";
        out += f.name;
        out += f.type == metric_type::counter ? " counter\n"
               : f.type == metric_type::gauge ? " gauge\n"
                                              : " histogram\n";
        for (const auto& s : f.samples) {
            out += f.name;
            out += s.suffix;
            if (!s.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto& [k, v] : s.labels) {
                    if (!first) out += ',';
                    first = false;
                    out += k;
                    out += "=\"";
                    append_label_escaped(out, v);
                    out += '"';
                }
                out += '}';
            }
            out += ' ';
            append_number(out, s.value);
            out += '\n';
        }
    }
    return out;
}

// ---- process metrics ----

namespace {

struct proc_stat {
    double cpu_seconds = 0;
    double start_time_seconds = 0;
    double resident_bytes = 0;
};

proc_stat read_proc_stat() {
    proc_stat out;
    std::ifstream f("/proc/self/stat");
    std::string line;
    if (!std::getline(f, line)) return out;
    // The command name is in parentheses and may hold spaces: fields are counted after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return out;
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string x; rest >> x;) fields.push_back(std::move(x));
    // fields[0] is field 3 (state): field N is fields[N - 3].
    auto at = [&](std::size_t n) { return n - 3 < fields.size() ? std::stod(fields[n - 3]) : 0.0; };
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    out.cpu_seconds = (at(14) + at(15)) / ticks;
    out.resident_bytes = at(24) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    double boot = 0;
    std::ifstream s("/proc/stat");
    for (std::string l; std::getline(s, l);) {
        if (l.starts_with("btime ")) boot = std::stod(l.substr(6));
    }
    out.start_time_seconds = boot + at(22) / ticks;
    return out;
}

double open_fds() {
    std::error_code ec;
    double n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++n;
    }
    return n > 0 ? n - 1 : 0;  // less the descriptor of the listing itself
}

}  // namespace

process_metrics::process_metrics() {
    auto one = [](double v) { return std::vector<sample>{{"", {}, v}}; };
    families_.push_back(std::make_unique<gauge_family>(
        "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
        [one] { return one(read_proc_stat().cpu_seconds); }, metric_type::counter));
    families_.push_back(
        std::make_unique<gauge_family>("process_resident_memory_bytes", "Resident memory size in bytes.",
                                       [one] { return one(read_proc_stat().resident_bytes); }));
    families_.push_back(std::make_unique<gauge_family>("process_open_fds", "Number of open file descriptors.",
                                                       [one] { return one(open_fds()); }));
    families_.push_back(
        std::make_unique<gauge_family>("process_max_fds", "Maximum number of open file descriptors.", [one] {
            rlimit r{};
            ::getrlimit(RLIMIT_NOFILE, &r);
            return one(static_cast<double>(r.rlim_cur));
        }));
    families_.push_back(std::make_unique<gauge_family>(
        "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        [one] { return one(read_proc_stat().start_time_seconds); }));
}

void process_metrics::register_in(registry& r) const {
    for (const auto& f : families_) r.add(*f);
}

build_info::build_info(std::string version, std::string store)
    : version_(std::move(version)),
      store_(std::move(store)),
      family_("dinex_build_info", "Always 1: the version of the service and its store back-end.", [this] {
          return std::vector<sample>{{"", {{"version", version_}, {"store", store_}}, 1.0}};
      }) {}

// ---- HTTP ----

namespace http_labels {

std::size_t route_index(std::string_view route) noexcept {
    for (std::size_t i = 0; i < routes.size(); ++i) {
        if (routes[i] == route) return i;
    }
    return route_index("unmatched");
}

std::size_t method_index(std::string_view method) noexcept {
    for (std::size_t i = 0; i + 1 < methods.size(); ++i) {
        if (methods[i] == method) return i;
    }
    return methods.size() - 1;
}

std::size_t code_index(int status) noexcept {
    static constexpr std::array<int, codes.size() - 1> numbers = {
        200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 414, 415, 422, 429, 431, 500, 503, 504};
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        if (numbers[i] == status) return i;
    }
    return codes.size() - 1;
}

}  // namespace http_labels

http_metrics::http_metrics()
    : requests_(
          "dinex_http_requests_total", "HTTP requests answered, by route, method and status code.",
          {{"route", http_labels::routes}, {"method", http_labels::methods}, {"code", http_labels::codes}},
          false),
      duration_("dinex_http_request_duration_seconds",
                "Time from the request's header to its response being written, by route and method.",
                {{"route", http_labels::routes}, {"method", http_labels::methods}}, duration_buckets) {}

void http_metrics::observe(std::string_view route, std::string_view method, int status,
                           double seconds) noexcept {
    const std::size_t r = http_labels::route_index(route);
    const std::size_t m = http_labels::method_index(method);
    requests_.inc(requests_.slot({r, m, http_labels::code_index(status)}));
    duration_.observe(duration_.slot({r, m}), seconds);
}

void http_metrics::register_in(registry& r) const {
    r.add(requests_);
    r.add(duration_);
}

}  // namespace dinex::obs

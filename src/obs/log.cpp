#include "obs/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "core/time.hpp"
#include "text/json_string.hpp"

namespace dinex::obs {
namespace {

constexpr std::size_t flush_threshold = std::size_t{64} * 1024;

std::string now_rfc3339() {
    using namespace std::chrono;
    return core::format_rfc3339(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

void start_line(std::string& line, level l) {
    line += R"({"time":")";
    line += now_rfc3339();
    line += R"(","level":")";
    line += to_string(l);
    line += '"';
}

void add_key(std::string& line, std::string_view key) {
    line += ",\"";
    line += key;
    line += "\":";
}

void add_string(std::string& line, std::string_view key, std::string_view value) {
    add_key(line, key);
    line += '"';
    text::append_json_escaped(line, value);
    line += '"';
}

}  // namespace

std::optional<level> parse_level(std::string_view t) noexcept {
    if (t == "debug") return level::debug;
    if (t == "info") return level::info;
    if (t == "warn" || t == "warning") return level::warn;
    if (t == "error") return level::error;
    return std::nullopt;
}

std::string_view to_string(level l) noexcept {
    switch (l) {
        case level::debug: return "debug";
        case level::info: return "info";
        case level::warn: return "warn";
        case level::error: return "error";
    }
    return "info";
}

logger::logger(level min_level, int fd, int flush_interval_ms)
    : min_level_(min_level), fd_(fd), flush_interval_ms_(flush_interval_ms) {
    flusher_ = std::thread([this] { run(); });
}

logger::~logger() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    flusher_.join();
}

void logger::access(const access_record& r) {
    if (!enabled(level::info)) return;
    // One line per request: built in a reused per-thread string, numbers with to_chars.
    thread_local std::string line;
    line.clear();
    start_line(line, level::info);
    add_string(line, "msg", "request");
    add_string(line, "request_id", r.request_id);
    add_string(line, "method", r.method);
    add_string(line, "route", r.route);
    char buf[32];
    add_key(line, "status");
    line.append(buf, std::to_chars(buf, buf + sizeof buf, r.status).ptr);
    add_key(line, "duration_ms");
    line.append(buf, std::to_chars(buf, buf + sizeof buf, r.duration_ms, std::chars_format::fixed, 3).ptr);
    add_string(line, "client", r.client);
    add_key(line, "bytes_in");
    line.append(buf, std::to_chars(buf, buf + sizeof buf, r.bytes_in).ptr);
    add_key(line, "bytes_out");
    line.append(buf, std::to_chars(buf, buf + sizeof buf, r.bytes_out).ptr);
    if (!r.note.empty()) add_string(line, "note", r.note);
    line += "}\n";
    append_line(line);
}

void logger::log(level l, std::string_view msg, std::initializer_list<field> fields) {
    if (!enabled(l)) return;
    std::string line;
    line.reserve(128);
    start_line(line, l);
    add_string(line, "msg", msg);
    for (const auto& [key, value] : fields) {
        if (const auto* s = std::get_if<std::string_view>(&value)) {
            if (s->empty()) continue;  // an absent value is no key at all: shorter lines, same meaning
            add_string(line, key, *s);
        } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
            add_key(line, key);
            line += std::to_string(*i);
        } else if (const auto* d = std::get_if<double>(&value)) {
            add_key(line, key);
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6g", *d);
            line += buf;
        } else {
            add_key(line, key);
            line += std::get<bool>(value) ? "true" : "false";
        }
    }
    line += "}\n";
    append_line(line);
    if (l >= level::error) flush();
}

void logger::append_line(std::string_view line) {
    // Each thread keeps to one shard (assigned in turn), so two request threads never share a lock.
    static std::atomic<std::size_t> next_shard{0};
    thread_local const std::size_t my_shard =
        next_shard.fetch_add(1, std::memory_order_relaxed) % shard_count;
    {
        shard& s = shards_[my_shard];
        const std::lock_guard lock(s.mutex);
        s.lines.append(line);
    }
    if (buffered_.fetch_add(line.size(), std::memory_order_relaxed) + line.size() >= flush_threshold) {
        cv_.notify_one();
    }
}

std::string logger::take_all() {
    std::string data;
    for (auto& s : shards_) {
        const std::lock_guard lock(s.mutex);
        if (s.lines.empty()) continue;
        if (data.empty()) {
            data.swap(s.lines);
        } else {
            data += s.lines;
            s.lines.clear();
        }
    }
    buffered_.store(0, std::memory_order_relaxed);
    return data;
}

void logger::flush() { write_all(take_all()); }

void logger::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait_for(lock, std::chrono::milliseconds(flush_interval_ms_), [this] {
            return stopping_ || buffered_.load(std::memory_order_relaxed) >= flush_threshold;
        });
        const bool stop = stopping_;
        lock.unlock();
        write_all(take_all());
        if (stop) return;
        lock.lock();
    }
}

void logger::write_all(const std::string& data) {
    if (data.empty()) return;
    const std::lock_guard lock(write_mutex_);
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // nowhere left to report a failing log sink
        }
        done += static_cast<std::size_t>(n);
    }
}

void log_server_error(logger& log, std::string_view request_id, std::string_view route, int status,
                      std::string_view cause) {
    log.log(level::error, "server error",
            {{"request_id", request_id},
             {"route", route},
             {"status", std::int64_t{status}},
             {"cause", cause.empty() ? std::string_view("not recorded") : cause}});
}

}  // namespace dinex::obs

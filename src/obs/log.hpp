#pragma once
// Structured logs: one JSON object per line on stdout, with a fixed set of keys. Lines are
// buffered and written by a background thread, so a request never waits on the terminal or pipe.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>

namespace dinex::obs {

enum class level { debug, info, warn, error };
std::optional<level> parse_level(std::string_view text) noexcept;
std::string_view to_string(level l) noexcept;

struct access_record {
    std::string_view request_id;
    std::string_view method;
    std::string_view route;  // a fixed label, never the raw path
    int status = 0;
    double duration_ms = 0;
    std::string_view client;
    std::size_t bytes_in = 0;
    std::size_t bytes_out = 0;
    std::string_view
        note;  // the application's word for the operator (a 5xx's cause, ignored fields); may be empty
};

using field_value = std::variant<std::string_view, std::int64_t, double, bool>;
using field = std::pair<std::string_view, field_value>;

class logger {
public:
    // fd: where lines go (1 = stdout). flush_interval_ms bounds how late a line can appear.
    explicit logger(level min_level = level::info, int fd = 1, int flush_interval_ms = 100);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    bool enabled(level l) const noexcept { return l >= min_level_; }
    void access(const access_record& r);
    // A string field whose value is empty is left out of the line.
    void log(level l, std::string_view msg, std::initializer_list<field> fields = {});
    // Writes everything buffered now (before exit, after a fatal error).
    void flush();

private:
    void append_line(std::string_view line);
    void run();
    // Moves every shard's lines into one string, shard by shard.
    std::string take_all();
    void write_all(const std::string& data);

    // Lines wait in shards, one per writing thread as far as the count allows, so request threads
    // do not contend on one lock for every access line.
    struct alignas(64) shard {
        std::mutex mutex;
        std::string lines;
    };
    static constexpr std::size_t shard_count = 16;

    level min_level_;
    int fd_;
    int flush_interval_ms_;
    shard shards_[shard_count];
    std::atomic<std::size_t> buffered_{0};  // bytes in all shards, to wake the flusher early
    std::mutex mutex_;                      // for cv_ and stopping_
    std::mutex write_mutex_;                // keeps two flushes from interleaving their bytes
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread flusher_;
};

// The one line that says why a request failed on the server side: an error line with the cause
// (the internal message of a store or notifier error), which the client never sees. Every
// front-end writes it for each 5xx, beside its request line.
void log_server_error(logger& log, std::string_view request_id, std::string_view route, int status,
                      std::string_view cause);

}  // namespace dinex::obs

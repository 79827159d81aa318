#pragma once
// Private to src/store/sqlite: the read connections and their pool. Reads never wait for the
// writer (WAL): each runs on its own connection, in its own snapshot.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/db.hpp"

namespace dinex::store::sqlite_detail {

// Where and how read connections open the database: the path, or (a read-only snapshot) a URI.
struct reader_target {
    std::string name;
    int flags = SQLITE_OPEN_READONLY;
};

// A WAL database in a folder this process cannot write, with no -shm beside it, cannot be read the
// usual way: SQLite must create the -shm. No process has it open for writing then (a writer would
// have made the -shm), so it is a snapshot, and SQLite may read it as immutable.
reader_target immutable_snapshot(const std::string& path);

struct read_connection {
    db_handle handle;
    statement begin, commit, state, events, ping;
    statement_cache prepared{handle.db};
    statement list_by_status, export_ids, export_events;
    explicit read_connection(const reader_target& target);
};

class reader_pool {
public:
    explicit reader_pool(reader_target target) : target_(std::move(target)) {}

    const reader_target& target() const noexcept { return target_; }
    // Before the first read only (open() switching to an immutable snapshot).
    void set_target(reader_target target) { target_ = std::move(target); }

    // Opens a connection and keeps it idle, so that open() fails at start-up, not on the first
    // lookup, when readers cannot open the file. Throws sqlite_failure.
    void open_one() { release(std::make_unique<read_connection>(target_)); }

    // Closes the idle connections; a later read opens a new one.
    void close_idle() {
        const std::lock_guard lock(mutex_);
        idle_.clear();
    }

    // The one way to read: runs `fn(connection)` on a pooled connection inside one read
    // transaction, so every statement of `fn` sees the same snapshot, and returns what `fn`
    // returns (a core::result); a SQLite failure becomes an error.
    template <class F>
    auto read(F&& fn) -> decltype(fn(std::declval<read_connection&>())) {
        std::unique_ptr<read_connection> c;
        try {
            c = acquire();
            std::optional<decltype(fn(*c))> out;
            statement::run(c->begin).exec();
            try {
                out.emplace(fn(*c));
                statement::run(c->commit).exec();
            } catch (...) {
                c->handle.rollback_if_open();
                throw;
            }
            release(std::move(c));
            return std::move(*out);
        } catch (const sqlite_failure& f) {
            if (c) release(std::move(c));
            return core::fail(to_error(f));
        }
    }

private:
    std::unique_ptr<read_connection> acquire();
    void release(std::unique_ptr<read_connection> c);

    reader_target target_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<read_connection>> idle_;
};

}  // namespace dinex::store::sqlite_detail

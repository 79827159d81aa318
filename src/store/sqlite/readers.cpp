#include "store/sqlite/readers.hpp"

#include "store/sqlite/rows.hpp"

namespace dinex::store::sqlite_detail {

reader_target immutable_snapshot(const std::string& path) {
    std::string uri = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            static constexpr char hex[] = "0123456789ABCDEF";
            uri += '%';
            uri += hex[(static_cast<unsigned char>(c) >> 4) & 0xFU];
            uri += hex[static_cast<unsigned char>(c) & 0xFU];
        } else {
            uri += c;
        }
    }
    uri += "?immutable=1";
    return {std::move(uri), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI};
}

read_connection::read_connection(const reader_target& target)
    : handle(target.name, target.flags),
      begin(handle.db, "BEGIN"),
      commit(handle.db, "COMMIT"),
      state(handle.db, select_state_sql),
      events(handle.db, select_events_sql),
      ping(handle.db, "SELECT count(*) FROM sqlite_schema"),
      list_by_status(handle.db, list_by_status_sql),
      export_ids(handle.db, export_ids_sql),
      export_events(handle.db, export_events_sql) {
    sqlite3_busy_timeout(handle.db, 5000);
    // Reads map the file instead of copying pages through SQLite's page cache: up to SQLite's
    // own ceiling (2 GiB), so a database of 10 million events (2 GiB) is read from the mapping
    // and GET stays as fast as with 10 thousand (docs/PERFORMANCE.md, "What made the
    // difference"). The mapped pages are the kernel's page cache, shared by every connection,
    // but they count in the process's VmRSS (docs/OPERATIONS.md).
    handle.exec("PRAGMA mmap_size = 2147418112");
}

std::unique_ptr<read_connection> reader_pool::acquire() {
    {
        const std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return c;
        }
    }
    return std::make_unique<read_connection>(target_);
}

void reader_pool::release(std::unique_ptr<read_connection> c) {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(c));
}

}  // namespace dinex::store::sqlite_detail

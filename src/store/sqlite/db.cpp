#include "store/sqlite/db.hpp"

namespace dinex::store::sqlite_detail {

void throw_sqlite(sqlite3* db, int rc, const char* doing) {
    throw sqlite_failure(rc, std::string(doing) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

core::error to_error(const sqlite_failure& f) {
    // Busy/locked/full/IO are conditions of the machine, worth retrying; the rest is a bug.
    const int primary = f.code & 0xFF;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL ||
        primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) {
        return core::error::unavailable_error(std::string("sqlite: ") + f.what());
    }
    return core::error::internal_error(std::string("sqlite: ") + f.what());
}

db_handle::db_handle(const std::string& path, int flags) {
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        throw sqlite_failure(rc, msg);
    }
    sqlite3_extended_result_codes(db, 1);
}

void db_handle::exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = std::string(sql) + ": " + (err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        throw sqlite_failure(rc, msg);
    }
}

void db_handle::rollback_if_open() noexcept {
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

statement& statement_cache::get(const std::string& sql) {
    auto it = map_.find(sql);
    if (it == map_.end()) it = map_.emplace(sql, statement(db_, sql.c_str())).first;
    return it->second;
}

}  // namespace dinex::store::sqlite_detail

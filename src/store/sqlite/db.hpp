#pragma once
// Private to src/store/sqlite: the RAII wrappers around the SQLite C API that every part of the
// store uses, and the one translation of a SQLite failure into core::error.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"

namespace dinex::store::sqlite_detail {

// Raised inside the SQLite store only, and turned into core::error at the edge of every operation.
struct sqlite_failure : std::runtime_error {
    int code;
    sqlite_failure(int rc, const std::string& what) : std::runtime_error(what), code(rc) {}
};

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const char* doing);

core::error to_error(const sqlite_failure& f);

class statement {
public:
    statement() = default;
    statement(sqlite3* db, const char* sql) : db_(db) {
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
        if (rc != SQLITE_OK) throw_sqlite(db, rc, sql);
    }
    statement(statement&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
    statement& operator=(statement&& o) noexcept {
        std::swap(db_, o.db_);
        std::swap(stmt_, o.stmt_);
        return *this;
    }
    ~statement() { sqlite3_finalize(stmt_); }

    // Resets when the scope ends, so a statement never holds a read snapshot open by accident.
    class run {
    public:
        explicit run(statement& s) : s_(s) {}
        ~run() {
            sqlite3_reset(s_.stmt_);
            sqlite3_clear_bindings(s_.stmt_);
        }
        run(const run&) = delete;
        run& operator=(const run&) = delete;

        run& bind(int i, std::string_view v) {
            check(sqlite3_bind_text(s_.stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
            return *this;
        }
        run& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
        run& bind(int i, std::int64_t v) {
            check(sqlite3_bind_int64(s_.stmt_, i, v));
            return *this;
        }
        run& bind(int i, const std::optional<std::string>& v) {
            return v ? bind(i, std::string_view(*v)) : bind_null(i);
        }
        run& bind(int i, std::optional<std::int64_t> v) { return v ? bind(i, *v) : bind_null(i); }
        run& bind(int i, std::optional<double> v) {
            if (!v) return bind_null(i);
            check(sqlite3_bind_double(s_.stmt_, i, *v));
            return *this;
        }
        run& bind_null(int i) {
            check(sqlite3_bind_null(s_.stmt_, i));
            return *this;
        }
        // True while a row is available.
        bool step() {
            const int rc = sqlite3_step(s_.stmt_);
            if (rc == SQLITE_ROW) return true;
            if (rc == SQLITE_DONE) return false;
            throw_sqlite(s_.db_, rc, sqlite3_sql(s_.stmt_));
        }
        void exec() {
            while (step()) {
            }
        }
        std::string text(int col) const {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_.stmt_, col));
            return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_.stmt_, col)))
                     : std::string();
        }
        std::optional<std::string> opt_text(int col) const {
            if (sqlite3_column_type(s_.stmt_, col) == SQLITE_NULL) return std::nullopt;
            return text(col);
        }
        std::int64_t int64(int col) const { return sqlite3_column_int64(s_.stmt_, col); }
        std::optional<std::int64_t> opt_int64(int col) const {
            if (sqlite3_column_type(s_.stmt_, col) == SQLITE_NULL) return std::nullopt;
            return sqlite3_column_int64(s_.stmt_, col);
        }
        std::optional<double> opt_double(int col) const {
            if (sqlite3_column_type(s_.stmt_, col) == SQLITE_NULL) return std::nullopt;
            return sqlite3_column_double(s_.stmt_, col);
        }

    private:
        void check(int rc) {
            if (rc != SQLITE_OK) throw_sqlite(s_.db_, rc, "bind");
        }
        statement& s_;
    };

private:
    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

// A connection closed on destruction. sqlite3_close_v2 defers the close until statements are gone.
struct db_handle {
    sqlite3* db = nullptr;
    db_handle(const std::string& path, int flags);
    ~db_handle() { sqlite3_close_v2(db); }
    db_handle(const db_handle&) = delete;
    db_handle& operator=(const db_handle&) = delete;

    void exec(const char* sql);
    // Ends the transaction a failure left open, if any; never throws (it runs on the error path).
    void rollback_if_open() noexcept;
};

// Statements prepared once per connection on first use, for the queries of the less frequent paths
// (webhooks): preparing costs more than running them.
class statement_cache {
public:
    explicit statement_cache(sqlite3* db) : db_(db) {}
    statement& get(const std::string& sql);

private:
    sqlite3* db_;
    std::unordered_map<std::string, statement> map_;
};

}  // namespace dinex::store::sqlite_detail

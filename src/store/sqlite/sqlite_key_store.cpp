#include "store/sqlite/sqlite_key_store.hpp"

#include <mutex>

#include "store/sqlite/db.hpp"
#include "store/sqlite/schema.hpp"

namespace dinex::store {

using sqlite_detail::db_handle;
using sqlite_detail::sqlite_failure;
using sqlite_detail::statement;
using sqlite_detail::to_error;

struct sqlite_key_store::impl {
    std::mutex mutex;
    db_handle handle;
    statement insert, by_id, all, revoke;

    explicit impl(const std::string& path) : handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
        sqlite3_busy_timeout(handle.db, 5000);
        handle.exec("PRAGMA journal_mode = WAL");
        handle.exec("PRAGMA synchronous = FULL");
        sqlite_detail::migrate_schema(handle);
        insert = statement(handle.db,
                           "INSERT INTO api_keys (id, name, role, key_hash, created_at, revoked_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, NULL)");
        by_id = statement(
            handle.db, "SELECT id, name, role, key_hash, created_at, revoked_at FROM api_keys WHERE id = ?1");
        all = statement(handle.db,
                        "SELECT id, name, role, key_hash, created_at, revoked_at FROM api_keys "
                        "ORDER BY created_at, id");
        revoke =
            statement(handle.db, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1");
    }

    static core::api_key_record read(const statement::run& r) {
        core::api_key_record k;
        k.id = r.text(0);
        k.name = r.text(1);
        k.key_role = core::parse_role(r.text(2)).value_or(core::role::reader);
        k.hash = r.text(3);
        k.created_at = r.int64(4);
        if (const auto revoked = r.opt_text(5)) k.revoked_at = r.int64(5);
        return k;
    }

    std::optional<core::api_key_record> find(std::string_view id) {
        statement::run r(by_id);
        r.bind(1, id);
        if (!r.step()) return std::nullopt;
        return read(r);
    }
};

core::result<std::unique_ptr<sqlite_key_store>> sqlite_key_store::open(const std::string& path) {
    try {
        return std::unique_ptr<sqlite_key_store>(new sqlite_key_store(std::make_unique<impl>(path)));
    } catch (const sqlite_failure& f) {
        auto e = to_error(f);
        e.message = "cannot open the database " + path + ": " + f.what();
        return core::fail(std::move(e));
    }
}

sqlite_key_store::sqlite_key_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
sqlite_key_store::~sqlite_key_store() = default;

core::result<void> sqlite_key_store::create_key(const core::api_key_record& k) {
    const std::lock_guard lock(impl_->mutex);
    try {
        statement::run(impl_->insert)
            .bind(1, k.id)
            .bind(2, k.name)
            .bind(3, core::to_string(k.key_role))
            .bind(4, k.hash)
            .bind(5, k.created_at)
            .exec();
    } catch (const sqlite_failure& f) {
        if (f.code == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return core::fail(core::error::make(core::errc::conflict, "a key with id " + k.id + " exists"));
        }
        return core::fail(to_error(f));
    }
    return {};
}

core::result<std::optional<core::api_key_record>> sqlite_key_store::find_key(std::string_view id) {
    const std::lock_guard lock(impl_->mutex);
    try {
        return impl_->find(id);
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
}

core::result<std::vector<core::api_key_record>> sqlite_key_store::list_keys() {
    const std::lock_guard lock(impl_->mutex);
    try {
        std::vector<core::api_key_record> out;
        statement::run r(impl_->all);
        while (r.step()) out.push_back(impl::read(r));
        return out;
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
}

core::result<core::api_key_record> sqlite_key_store::revoke_key(std::string_view id, core::millis now) {
    const std::lock_guard lock(impl_->mutex);
    try {
        statement::run(impl_->revoke).bind(1, id).bind(2, now).exec();
        auto k = impl_->find(id);
        if (!k)
            return core::fail(core::error::make(core::errc::not_found, "no key with id " + std::string(id)));
        return std::move(*k);
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
}

}  // namespace dinex::store

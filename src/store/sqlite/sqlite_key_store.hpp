#pragma once
// API keys in the SQLite database (table api_keys, schema version 2). Its own connection, shared
// by its callers under a mutex: key reads are rare (the authenticator caches them) and key writes
// come from the CLI, possibly while a server holds the same file open (WAL, busy timeout).
#include <memory>
#include <string>

#include "core/access.hpp"

namespace dinex::store {

class sqlite_key_store final : public core::key_store {
public:
    // Opens (or creates) the database and migrates its schema to the current version.
    static core::result<std::unique_ptr<sqlite_key_store>> open(const std::string& path);
    ~sqlite_key_store() override;

    core::result<void> create_key(const core::api_key_record& record) override;
    core::result<std::optional<core::api_key_record>> find_key(std::string_view id) override;
    core::result<std::vector<core::api_key_record>> list_keys() override;
    core::result<core::api_key_record> revoke_key(std::string_view id, core::millis now) override;

    struct impl;

private:
    explicit sqlite_key_store(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace dinex::store

// `dinex-tracking keys create|list|revoke`: API key management on the SQLite database (--db) or
// the DynamoDB table (--store dynamodb, TABLE_NAME and the AWS variables). The key itself is
// printed once, on the last line of `create`'s output; only its SHA-256 is stored.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "auth/api_key.hpp"
#include "cli/commands.hpp"
#include "cli/stack.hpp"
#include "core/system_ports.hpp"
#include "core/time.hpp"

namespace dinex::cli {
namespace {

struct keys_options {
    std::string store = "sqlite";
    std::string data_dir = "data";
    std::string db;
    std::string table;
    std::string name;
    std::string role;
    std::string id;
};

// `create` may start a new database; list and revoke only read or change an existing one.
std::unique_ptr<core::key_store> open_keys(const keys_options& o, bool existing_only = true) {
    stack_options s;
    s.existing_only = existing_only;
    s.store = o.store;
    s.sqlite_path = o.db.empty() ? (std::filesystem::path(o.data_dir) / "tracking.db").string() : o.db;
    s.dynamodb_table = o.table;
    auto keys = build_key_store(s);
    if (!keys) {
        std::cerr << "error: " << keys.error().message << "\n";
        return nullptr;
    }
    return std::move(*keys);
}

std::string when(const std::optional<core::millis>& t) { return t ? core::format_rfc3339(*t) : "-"; }

int create(const keys_options& o) {
    const auto r = core::parse_role(o.role);
    if (!r) {
        std::cerr << "error: --role must be reader, writer or admin\n";
        return 2;
    }
    if (o.name.empty() || o.name.size() > 200) {
        std::cerr << "error: --name must be 1 to 200 characters\n";
        return 2;
    }
    auto keys = open_keys(o, false);
    if (!keys) return 1;
    core::system_clock clock;
    auto made = auth::generate_key(o.name, *r, clock.now());
    if (auto ok = keys->create_key(made.record); !ok) {
        std::cerr << "error: " << ok.error().message << "\n";
        return 1;
    }
    std::cout << "created key " << made.record.id << " (name " << made.record.name << ", role "
              << core::to_string(made.record.key_role) << ")\n"
              << "the key is shown once, on the next line; only its SHA-256 is stored\n"
              << made.key << std::endl;
    return 0;
}

int list(const keys_options& o) {
    auto keys = open_keys(o);
    if (!keys) return 1;
    auto all = keys->list_keys();
    if (!all) {
        std::cerr << "error: " << all.error().message << "\n";
        return 1;
    }
    std::cout << std::left << std::setw(14) << "ID" << std::setw(8) << "ROLE" << std::setw(26) << "CREATED"
              << std::setw(26) << "REVOKED"
              << "NAME\n";
    for (const auto& k : *all) {
        std::cout << std::setw(14) << k.id << std::setw(8) << core::to_string(k.key_role) << std::setw(26)
                  << core::format_rfc3339(k.created_at) << std::setw(26) << when(k.revoked_at) << k.name
                  << "\n";
    }
    return 0;
}

int revoke(const keys_options& o) {
    auto keys = open_keys(o);
    if (!keys) return 1;
    core::system_clock clock;
    auto done = keys->revoke_key(o.id, clock.now());
    if (!done) {
        std::cerr << "error: " << done.error().message << "\n";
        return done.error().code == core::errc::not_found ? 3 : 1;
    }
    std::cout << "revoked key " << done->id << " at " << when(done->revoked_at)
              << " (servers stop accepting it within 10 s)\n";
    return 0;
}

}  // namespace

command register_keys(CLI::App& cli) {
    auto o = std::make_shared<keys_options>();
    auto* cmd = cli.add_subcommand("keys", "Create, list and revoke API keys (docs/SECURITY.md)");
    cmd->require_subcommand(1);
    auto* c = cmd->add_subcommand("create", "Create a key; prints it once, on the last line");
    c->add_option("--name", o->name, "Who or what the key is for")->required();
    c->add_option("--role", o->role, "reader, writer or admin")->required();
    auto* l = cmd->add_subcommand("list", "List keys (id, role, created, revoked, name; never the key)");
    auto* r = cmd->add_subcommand("revoke", "Revoke a key by its id");
    r->add_option("id", o->id, "The key id (the 12 characters after dnx_)")->required();
    // The same store options on `keys` and on every subcommand: `keys create --db PATH …` and
    // `keys --db PATH create …` both work.
    for (auto* sub : {cmd, c, l, r}) {
        sub->add_option("--store", o->store, "sqlite (default) or dynamodb (TABLE_NAME, AWS_* settings)")
            ->envname("DINEX_STORE")
            ->capture_default_str();
        sub->add_option("--data-dir", o->data_dir, "Directory of the default database file")
            ->envname("DINEX_DATA_DIR")
            ->capture_default_str();
        sub->add_option("--db", o->db, "SQLite database file (default: <data-dir>/tracking.db, as serve)")
            ->envname("DINEX_DB");
        sub->add_option("--table", o->table, "DynamoDB table")->envname("TABLE_NAME");
    }

    return {cmd, [o, c, l, r]() -> int {
                if (c->parsed()) return create(*o);
                if (l->parsed()) return list(*o);
                if (r->parsed()) return revoke(*o);
                return 2;
            }};
}

}  // namespace dinex::cli

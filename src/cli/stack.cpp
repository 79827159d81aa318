#include "cli/stack.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "auth/gcra_limiter.hpp"
#include "auth/limits.hpp"
#include "aws/credentials.hpp"
#include "aws/dynamodb_client.hpp"
#include "aws/http_client.hpp"
#include "core/text.hpp"
#include "store/dynamodb/dynamodb_access.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/memory/memory_key_store.hpp"
#include "store/memory/memory_store.hpp"
#if DINEX_WITH_SQLITE
#include "store/sqlite/sqlite_key_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#endif

namespace dinex::cli {


namespace {

std::shared_ptr<aws::dynamodb_client> dynamodb_client_for(const stack_options& o,
                                                          const std::shared_ptr<aws::tls_context>& tls,
                                                          std::string& table, std::string& endpoint,
                                                          std::string& error) {
    table = o.dynamodb_table;
    if (table.empty()) {
        if (const char* env = std::getenv("TABLE_NAME")) table = env;
    }
    if (table.empty()) {
        error = "the dynamodb store needs a table name (TABLE_NAME)";
        return nullptr;
    }
    auto config = aws::config_from_environment("dynamodb");
    if (!config) {
        error = config.error();
        return nullptr;
    }
    endpoint = config->endpoint;
    if (auto missing = aws::missing_trust_for(*tls, endpoint)) {
        error = "DynamoDB at " + *missing;
        return nullptr;
    }
    aws::dynamodb_options client_options;
    client_options.http.tls = tls;
    client_options.service = std::move(*config);
    return std::make_shared<aws::dynamodb_client>(std::move(client_options));
}

// With existing_only, a missing database file is an error that names the path.
[[maybe_unused]] bool database_present(const stack_options& o, std::string& error) {
    std::error_code ec;
    if (!o.existing_only || std::filesystem::is_regular_file(o.sqlite_path, ec)) return true;
    error = "no database at " + o.sqlite_path + " (check --db or --data-dir; nothing was created)";
    return false;
}

}  // namespace

// The Lambda package is built without SQLite (DINEX_WITH_SQLITE off): it says so instead of
// calling the store unknown.
[[maybe_unused]] constexpr const char* no_sqlite_in_this_build =
    "this build has no SQLite store (the Lambda package leaves it out): use dynamodb or memory";

std::unique_ptr<core::key_store> build_key_store(const stack_options& o, std::string& error) {
#if !DINEX_WITH_SQLITE
    if (o.store == "sqlite") {
        error = no_sqlite_in_this_build;
        return nullptr;
    }
#else
    if (o.store == "sqlite") {
        if (!database_present(o, error)) return nullptr;
        std::error_code ec;
        const auto parent = std::filesystem::path(o.sqlite_path).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        auto opened = store::sqlite_key_store::open(o.sqlite_path);
        if (!opened) {
            error = opened.error().message;
            return nullptr;
        }
        return std::move(*opened);
    }
#endif
    if (o.store == "dynamodb") {
        std::string table, endpoint;
        auto client = dynamodb_client_for(o, o.tls ? o.tls : aws::tls_context::for_this_system(), table,
                                          endpoint, error);
        if (!client) return nullptr;
        return std::make_unique<store::dynamodb_key_store>(table, client);
    }
    if (o.store == "memory") {
        error = "keys of the memory store live in the server's memory only: give them with DINEX_API_KEY_HASHES";
        return nullptr;
    }
    error = "unknown store " + o.store;
    return nullptr;
}

void service_stack::shutdown() {
    if (store) store->stop();
}

std::unique_ptr<service_stack> build_stack(const stack_options& o, std::string& error) {
    auto stack = std::make_unique<service_stack>();
    stack->tls = o.tls ? o.tls : aws::tls_context::for_this_system();
    std::shared_ptr<aws::dynamodb_client> dynamo_client;
    std::string dynamo_table;
#if DINEX_WITH_SQLITE
    if (o.store == "sqlite") {
        if (!database_present(o, error)) return nullptr;
        std::error_code ec;
        const auto parent = std::filesystem::path(o.sqlite_path).parent_path();
        if (!parent.empty() && !o.read_only) std::filesystem::create_directories(parent, ec);
        if (ec) {
            error = "cannot create the data directory " + parent.string() + ": " + ec.message();
            return nullptr;
        }
        auto opened = store::sqlite_store::open({.path = o.sqlite_path, .read_only = o.read_only}, stack->delivery_ids);
        if (!opened) {
            error = opened.error().message;
            return nullptr;
        }
        stack->store = std::move(*opened);
        stack->store_detail = o.sqlite_path;
        if (o.read_only) {
            stack->keys = std::make_unique<store::memory_key_store>();  // nothing to authenticate: no server
        } else {
            auto keys = store::sqlite_key_store::open(o.sqlite_path);
            if (!keys) {
                error = keys.error().message;
                return nullptr;
            }
            stack->keys = std::move(*keys);
        }
    } else
#endif
    if (o.store == "memory") {
        stack->store = std::make_unique<store::memory_store>();
        stack->store_detail = "process memory (lost on exit)";
        stack->keys = std::make_unique<store::memory_key_store>();
    } else if (o.store == "dynamodb") {
        std::string table, endpoint;
        dynamo_client = dynamodb_client_for(o, stack->tls, table, endpoint, error);
        if (!dynamo_client) return nullptr;
        stack->store_detail = "dynamodb table " + table + " at " + endpoint;
        dynamo_table = table;
        store::dynamodb_store_options store_options;
        store_options.table = std::move(table);
        store_options.client = dynamo_client;
        stack->store = std::make_unique<store::dynamodb_store>(std::move(store_options));
        stack->keys = std::make_unique<store::dynamodb_key_store>(dynamo_table, dynamo_client);
    } else {
        error = o.store == "sqlite" ? no_sqlite_in_this_build : "unknown store " + o.store;
        return nullptr;
    }

    const auto metrics_access = api::parse_metrics_access(o.metrics);
    if (!metrics_access) {
        error = "--metrics must be public, loopback, admin or off, not '" + o.metrics + "'";
        return nullptr;
    }
    stack->measured_store = std::make_unique<store::measured_store>(*stack->store);
    stack->measured_store->register_in(stack->metrics);
    stack->process_metrics.register_in(stack->metrics);
    stack->build_info = std::make_unique<obs::build_info>(DINEX_VERSION, std::string(stack->store->backend_name()));
    stack->build_info->register_in(stack->metrics);

    core::service_config service_cfg;
    service_cfg.lifecycle.retention = static_cast<core::millis>(o.retention_days) * 86'400'000;
    stack->service =
        std::make_unique<core::tracking_service>(*stack->measured_store, stack->clock, stack->ids, service_cfg);

    stack->authenticator = std::make_unique<auth::authenticator>(*stack->keys);
    if (auto bad = stack->authenticator->add_configured_keys(o.configured_keys, stack->clock.now())) {
        error = "DINEX_API_KEY_HASHES: " + *bad;
        return nullptr;
    }
    auth::role_limits limits;
    if (auto bad = auth::parse_role_limits(o.rate_limits, limits)) {
        error = "--rate-limit: " + *bad;
        return nullptr;
    }
    if (o.rate_limiter == "dynamodb") {
        if (!dynamo_client) {
            error = "--rate-limiter dynamodb needs --store dynamodb (the counters live in its table)";
            return nullptr;
        }
        stack->limiter = std::make_unique<store::dynamodb_rate_limiter>(dynamo_table, dynamo_client);
    } else if (o.rate_limiter == "memory") {
        stack->limiter = std::make_unique<auth::gcra_limiter>();
    } else {
        error = "--rate-limiter must be memory or dynamodb, not '" + o.rate_limiter + "'";
        return nullptr;
    }

    api::app_config app_cfg;
    app_cfg.public_lookup = o.public_lookup;
    app_cfg.public_full_view = o.public_view == "full";
    app_cfg.environment = o.environment;
    app_cfg.rate_limits = limits;
    app_cfg.version = DINEX_VERSION;
    app_cfg.cors_origins.clear();
    for (const auto origin : core::split_list(o.cors_origins)) app_cfg.cors_origins.emplace_back(origin);
    app_cfg.max_body_bytes = o.max_body_bytes;
    app_cfg.max_batch_body_bytes = o.max_batch_body_bytes;
    app_cfg.max_anonymous_body_bytes = o.max_anonymous_body_bytes;
    app_cfg.lookup_cache_entries = o.lookup_cache_entries;
    app_cfg.metrics = *metrics_access;
    stack->app = std::make_unique<api::application>(
        *stack->service, app_cfg,
        api::access_control{.keys = stack->authenticator.get(),
                            .limiter = limits.all_unlimited() ? nullptr : stack->limiter.get()},
        &stack->metrics,
        api::webhook_admin{.store = stack->store->webhooks(),
                           .ids = &stack->ids,
                           .settings = {.allow_private = o.allow_private_webhooks}});
    return stack;
}

}  // namespace dinex::cli

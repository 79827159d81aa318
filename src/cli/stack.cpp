#include "cli/stack.hpp"

#include "cli/config.hpp"

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

core::error unusable(std::string message) {
    return core::error::make(core::errc::invalid_argument, std::move(message));
}

struct dynamodb_target {
    std::shared_ptr<aws::dynamodb_client> client;
    std::string endpoint;
};

core::result<dynamodb_target> dynamodb_client_for(const stack_options& o,
                                                  const std::shared_ptr<aws::tls_context>& tls) {
    auto config = aws::config_from_environment("dynamodb");
    if (!config) return core::fail(unusable(config.error()));
    dynamodb_target out;
    out.endpoint = config->endpoint;
    if (auto missing = aws::missing_trust_for(*tls, out.endpoint))
        return core::fail(unusable("DynamoDB at " + *missing));
    aws::dynamodb_options client_options;
    client_options.http.tls = tls;
    client_options.service = std::move(*config);
    client_options.on_capacity = o.dynamodb_capacity;
    out.client = std::make_shared<aws::dynamodb_client>(std::move(client_options));
    return out;
}

// Before a SQLite file is opened: with existing_only, a missing file is an error that names the
// path; otherwise its folder is made when missing (not for a read-only open, which creates nothing).
[[maybe_unused]] core::result<void> prepare_sqlite_path(const stack_options& o) {
    std::error_code ec;
    if (o.existing_only && !std::filesystem::is_regular_file(o.sqlite_path, ec)) {
        return core::fail(
            unusable("no database at " + o.sqlite_path + " (check --db or --data-dir; nothing was created)"));
    }
    const auto parent = std::filesystem::path(o.sqlite_path).parent_path();
    if (!parent.empty() && !o.read_only) std::filesystem::create_directories(parent, ec);
    if (ec)
        return core::fail(
            unusable("cannot create the data directory " + parent.string() + ": " + ec.message()));
    return {};
}

}  // namespace

// The Lambda package is built without SQLite (DINEX_WITH_SQLITE off): it says so instead of
// calling the store unknown.
[[maybe_unused]] constexpr const char* no_sqlite_in_this_build =
    "this build has no SQLite store (the Lambda package leaves it out): use dynamodb or memory";

core::result<std::unique_ptr<core::key_store>> build_key_store(const stack_options& o) {
    if (auto valid = validate(o); !valid) return core::fail(std::move(valid.error()));
#if !DINEX_WITH_SQLITE
    if (o.store == "sqlite") return core::fail(unusable(no_sqlite_in_this_build));
#else
    if (o.store == "sqlite") {
        if (auto ready = prepare_sqlite_path(o); !ready) return core::fail(std::move(ready.error()));
        auto opened = store::sqlite_key_store::open(o.sqlite_path);
        if (!opened) return core::fail(std::move(opened.error()));
        return std::unique_ptr<core::key_store>(std::move(*opened));
    }
#endif
    if (o.store == "dynamodb") {
        auto dynamodb = dynamodb_client_for(o, o.tls ? o.tls : aws::tls_context::for_this_system());
        if (!dynamodb) return core::fail(std::move(dynamodb.error()));
        return std::unique_ptr<core::key_store>(
            std::make_unique<store::dynamodb_key_store>(o.dynamodb_table, dynamodb->client));
    }
    return core::fail(unusable(
        "keys of the memory store live in the server's memory only: give them with DINEX_API_KEY_HASHES"));
}

void service_stack::shutdown() {
    if (store) store->stop();
}

core::result<std::unique_ptr<service_stack>> build_stack(const stack_options& o) {
    if (auto valid = validate(o); !valid) return core::fail(std::move(valid.error()));
    auto stack = std::make_unique<service_stack>();
    stack->tls = o.tls ? o.tls : aws::tls_context::for_this_system();
    std::shared_ptr<aws::dynamodb_client> dynamo_client;
#if DINEX_WITH_SQLITE
    if (o.store == "sqlite") {
        if (auto ready = prepare_sqlite_path(o); !ready) return core::fail(std::move(ready.error()));
        auto opened =
            store::sqlite_store::open({.path = o.sqlite_path, .read_only = o.read_only}, stack->delivery_ids);
        if (!opened) return core::fail(std::move(opened.error()));
        stack->store = std::move(*opened);
        stack->store_detail = o.sqlite_path;
        if (o.read_only) {
            stack->keys = std::make_unique<store::memory_key_store>();  // nothing to authenticate: no server
        } else {
            auto keys = store::sqlite_key_store::open(o.sqlite_path);
            if (!keys) return core::fail(std::move(keys.error()));
            stack->keys = std::move(*keys);
        }
    } else
#endif
        if (o.store == "memory") {
        stack->store = std::make_unique<store::memory_store>();
        stack->store_detail = "process memory (lost on exit)";
        stack->keys = std::make_unique<store::memory_key_store>();
    } else if (o.store == "dynamodb") {
        auto dynamodb = dynamodb_client_for(o, stack->tls);
        if (!dynamodb) return core::fail(std::move(dynamodb.error()));
        dynamo_client = dynamodb->client;
        stack->store_detail = "dynamodb table " + o.dynamodb_table + " at " + dynamodb->endpoint;
        store::dynamodb_store_options store_options;
        store_options.table = o.dynamodb_table;
        store_options.client = dynamo_client;
        stack->store = std::make_unique<store::dynamodb_store>(std::move(store_options));
        stack->keys = std::make_unique<store::dynamodb_key_store>(o.dynamodb_table, dynamo_client);
    } else {
        return core::fail(unusable(no_sqlite_in_this_build));
    }

    // validate() has checked every setting read below.
    const auto metrics_access = api::parse_metrics_access(o.metrics);
    stack->measured_store = std::make_unique<store::measured_store>(*stack->store);
    stack->measured_store->register_in(stack->metrics);
    stack->process_metrics.register_in(stack->metrics);
    stack->build_info =
        std::make_unique<obs::build_info>(DINEX_VERSION, std::string(stack->store->backend_name()));
    stack->build_info->register_in(stack->metrics);

    core::service_config service_cfg;
    service_cfg.lifecycle.retention = static_cast<core::millis>(o.retention_days) * 86'400'000;
    stack->service = std::make_unique<core::tracking_service>(*stack->measured_store, stack->clock,
                                                              stack->ids, service_cfg);

    stack->authenticator = std::make_unique<auth::authenticator>(*stack->keys);
    if (auto bad = stack->authenticator->add_configured_keys(o.configured_keys, stack->clock.now())) {
        return core::fail(unusable("DINEX_API_KEY_HASHES: " + *bad));
    }
    auth::role_limits limits;
    (void)auth::parse_role_limits(o.rate_limits, limits);
    if (o.rate_limiter == "dynamodb") {
        // API keys share leased counters; anonymous callers are limited per instance (no write
        // per request: docs/SECURITY.md bounds both).
        stack->limiter = std::make_unique<store::dynamodb_rate_limiter>(
            o.dynamodb_table, dynamo_client, std::make_unique<auth::gcra_limiter>());
    } else {
        stack->limiter = std::make_unique<auth::gcra_limiter>();
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
    app_cfg.metrics = metrics_access.value_or(api::metrics_access::loopback);
    core::event_sink* events = nullptr;
    if (o.events == stack_options::event_metrics::emf) {
        events = (stack->emf_events = std::make_unique<obs::emf_event_collector>()).get();
    } else {
        events = (stack->prometheus_events = std::make_unique<obs::prometheus_event_counter>(stack->metrics))
                     .get();
    }
    stack->app = std::make_unique<api::application>(
        *stack->service, app_cfg,
        api::access_control{.keys = stack->authenticator.get(),
                            .limiter = limits.all_unlimited() ? nullptr : stack->limiter.get()},
        &stack->metrics,
        api::webhook_admin{.store = stack->store->webhooks(),
                           .ids = &stack->ids,
                           .settings = {.allow_private = o.allow_private_webhooks}},
        events);
    return stack;
}

std::function<void(std::string_view, const aws::consumed_capacity&)> capacity_logger(obs::logger& log) {
    return [&log](std::string_view op, const aws::consumed_capacity& c) {
        log.log(obs::level::debug, "dynamodb capacity",
                {{"operation", op}, {"read_units", c.read_units}, {"write_units", c.write_units}});
    };
}

}  // namespace dinex::cli

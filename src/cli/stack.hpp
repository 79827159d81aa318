#pragma once
// Builds the service from configuration: store, core, application. The one place that knows every
// back-end; front-ends (the HTTP server, the Lambda runtime) and commands take a stack and use it.
#include <functional>
#include <memory>
#include <string>

#include "api/application.hpp"
#include "auth/authenticator.hpp"
#include "aws/dynamodb_client.hpp"
#include "core/access.hpp"
#include "core/ports.hpp"
#include "core/system_ports.hpp"
#include "core/tracking_service.hpp"
#include "obs/event_metrics.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "store/measured/measured_store.hpp"

namespace dinex::aws {
class tls_context;
}

namespace dinex::cli {

// How the settings were given, for naming them in errors (cli/config.hpp).
enum class config_shape {
    server,  // serve, import, export, keys: command-line options (--retention-days)
    lambda,  // the function's environment (DINEX_RETENTION_DAYS)
};

// The service's one configuration: every shape (serve, lambda, the data commands) fills it, and
// build_stack checks it with cli::validate before building anything.
struct stack_options {
    config_shape shape = config_shape::server;
    std::string store = "sqlite";  // sqlite | memory | dynamodb
    std::string sqlite_path;       // for sqlite
    // sqlite: the database must already exist (commands that only read or change what is there:
    // a typo in --db is an error, never a new empty database); read_only: open it for reading only.
    bool existing_only = false;
    bool read_only = false;
    std::string dynamodb_table;  // for dynamodb (--table or TABLE_NAME); AWS_* give the rest
    unsigned retention_days = 30;
    std::string cors_origins = "*";
    std::size_t max_body_bytes = api::app_config{}.max_body_bytes;
    std::size_t max_batch_body_bytes = api::app_config{}.max_batch_body_bytes;  // POST /tracking/batch
    std::size_t lookup_cache_entries = 0;
    // Security (docs/SECURITY.md).
    bool public_lookup = true;            // anonymous GET /tracking (public view)
    std::string public_view = "limited";  // what anonymous lookups show: limited or full (docs/MIGRATING.md)
    std::string environment = "dev";      // named by GET /health
    std::string rate_limits;              // "anonymous=10/20,writer=200/400", "off"; on top of the defaults
    std::string rate_limiter = "memory";  // memory (this process) or dynamodb (shared by instances)
    std::string configured_keys;          // DINEX_API_KEY_HASHES: "role:id:sha256hex,…"
    std::string metrics =
        "loopback";  // GET /metrics: public, loopback (or an admin key), admin (admin key), off (404)
    std::size_t max_anonymous_body_bytes = api::app_config{}.max_anonymous_body_bytes;  // before a valid key
    bool allow_private_webhooks = false;  // webhook receivers on loopback/private/link-local addresses
    // Where stored tracking events are counted: the Prometheus registry (GET /metrics) or, on
    // Lambda, EMF lines the runtime writes with each invocation's.
    enum class event_metrics { prometheus, emf } events = event_metrics::prometheus;
    // The TLS context every AWS client of the process shares; made from the system's trust store
    // when null. An https:// AWS endpoint without a trust store is a configuration error.
    std::shared_ptr<aws::tls_context> tls;
    // Told what each DynamoDB call consumed (the debug log line "dynamodb capacity"); may be empty.
    std::function<void(std::string_view operation, const aws::consumed_capacity&)> dynamodb_capacity;
};

struct service_stack {
    // First, so it outlives every component listed in it.
    obs::registry metrics;
    obs::process_metrics process_metrics;
    std::unique_ptr<obs::build_info> build_info;
    core::system_clock clock;
    core::ulid_generator ids{clock};
    core::monotonic_ulid_generator delivery_ids{clock};  // the outbox's: ids sort in the order made
    std::unique_ptr<core::store> store;
    std::shared_ptr<aws::tls_context> tls;  // shared by the AWS clients below and any added later
    std::unique_ptr<store::measured_store> measured_store;  // what the service uses: `store`, timed
    std::unique_ptr<core::key_store> keys;
    std::unique_ptr<auth::authenticator> authenticator;
    std::unique_ptr<core::rate_limiter> limiter;
    std::unique_ptr<core::tracking_service> service;
    // The one of these that `event_metrics` chose (the application reports to it).
    std::unique_ptr<obs::prometheus_event_counter> prometheus_events;
    std::unique_ptr<obs::emf_event_collector> emf_events;
    std::unique_ptr<api::application> app;
    std::string store_detail;  // where the data lives, for the start-up log

    // Commits what is queued and closes the store.
    void shutdown();
};

// The stack `options` describe, or why not (a broken setting, a store that cannot be opened …),
// in words for the operator.
core::result<std::unique_ptr<service_stack>> build_stack(const stack_options& options);

// The key store of `options.store` alone (for `keys create|list|revoke`).
core::result<std::unique_ptr<core::key_store>> build_key_store(const stack_options& options);

// A stack_options::dynamodb_capacity that writes each call's units to `log` at debug level
// (the "dynamodb capacity" line, docs/DYNAMODB.md "Measured units").
std::function<void(std::string_view, const aws::consumed_capacity&)> capacity_logger(obs::logger& log);

}  // namespace dinex::cli

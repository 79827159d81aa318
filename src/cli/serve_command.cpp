#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/stack.hpp"
#include "cli/sweeper.hpp"
#include "notify/webhook_dispatcher.hpp"
#include "obs/log.hpp"
#include "server/http_server.hpp"

namespace dinex::cli {
namespace {

struct serve_options {
    stack_options stack;
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string data_dir = "data";
    std::string db;
    unsigned threads = 0;
    std::string log_level = "info";
    unsigned sweep_interval_seconds = 3600;
    unsigned read_timeout_seconds = 15;
    unsigned keep_alive_timeout_seconds = 60;
    unsigned first_byte_timeout_seconds = 10;
    unsigned linger_time_seconds = 30;
    std::size_t linger_bytes = std::size_t{4} * 1024 * 1024;
    std::size_t max_connections = 10'000;
    std::size_t max_connections_per_address = 1'000;
    // Webhooks (docs/NOTIFICATIONS.md).
    unsigned webhook_workers = 4;
    unsigned webhook_timeout_seconds = 10;
    unsigned webhook_first_retry_ms = 1000;
    unsigned webhook_max_retry_seconds = 3600;
    unsigned webhook_retry_window_hours = 24;
    unsigned webhook_disable_after = 40;
};

// The server's own settings (the service's are cli::validate's). Checked here rather than with
// CLI11 validators: CLI11 reads every subcommand's environment variables, so a validator on
// `serve` would also stop `lambda` or `create-table`.
core::result<void> check_server_options(const serve_options& o) {
    const auto broken = [](std::string message) {
        return core::result<void>(
            core::fail(core::error::make(core::errc::invalid_argument, std::move(message))));
    };
    if (!obs::parse_level(o.log_level)) return broken("--log-level must be debug, info, warn or error");
    if (o.sweep_interval_seconds < 1 || o.sweep_interval_seconds > 86400)
        return broken("--sweep-interval must be 1 to 86400");
    if (o.read_timeout_seconds < 1 || o.read_timeout_seconds > 3600)
        return broken("--read-timeout must be 1 to 3600");
    if (o.keep_alive_timeout_seconds < 1 || o.keep_alive_timeout_seconds > 3600) {
        return broken("--keep-alive-timeout must be 1 to 3600");
    }
    if (o.first_byte_timeout_seconds < 1 || o.first_byte_timeout_seconds > 3600) {
        return broken("--first-byte-timeout must be 1 to 3600");
    }
    if (o.linger_time_seconds > 300) return broken("--linger-time must be 0 to 300");
    if (o.linger_bytes > std::size_t{64} * 1024 * 1024) return broken("--linger-bytes must be 0 to 67108864");
    if (o.max_connections < 1) return broken("--max-connections must be at least 1");
    if (o.max_connections_per_address < 1) return broken("--max-connections-per-address must be at least 1");
    if (o.webhook_workers < 1 || o.webhook_workers > 64) return broken("--webhook-workers must be 1 to 64");
    if (o.webhook_timeout_seconds < 1 || o.webhook_timeout_seconds > 60)
        return broken("--webhook-timeout must be 1 to 60");
    if (o.webhook_first_retry_ms < 10 || o.webhook_first_retry_ms > 3'600'000) {
        return broken("--webhook-first-retry-ms must be 10 to 3600000");
    }
    if (o.webhook_max_retry_seconds < 1 || o.webhook_max_retry_seconds > 86400) {
        return broken("--webhook-max-retry-delay must be 1 to 86400");
    }
    if (o.webhook_retry_window_hours < 1 || o.webhook_retry_window_hours > 168) {
        return broken("--webhook-retry-window must be 1 to 168");
    }
    if (o.webhook_disable_after < 1 || o.webhook_disable_after > 1000)
        return broken("--webhook-disable-after must be 1 to 1000");
    return {};
}

int serve(serve_options o) {
    if (o.stack.store == "sqlite") {
        o.stack.sqlite_path =
            o.db.empty() ? (std::filesystem::path(o.data_dir) / "tracking.db").string() : o.db;
    }
    for (const auto& valid : {check_server_options(o), validate(o.stack)}) {
        if (!valid) {
            std::cerr << "error: " << valid.error().message << "\n";
            return 2;
        }
    }
    obs::logger log(*obs::parse_level(o.log_level));
    if (log.enabled(obs::level::debug)) o.stack.dynamodb_capacity = capacity_logger(log);
    auto built = build_stack(o.stack);
    if (!built) {
        std::cerr << "error: " << built.error().message << "\n";
        return 1;
    }
    std::unique_ptr<service_stack> stack = std::move(*built);

    server::server_config server_cfg;
    server_cfg.host = o.host;
    server_cfg.port = o.port;
    server_cfg.threads = o.threads;
    // The ceiling of any body; the application sets each request's own limit from its route and
    // key before the body is read (api::application::admit_body).
    server_cfg.max_body_bytes = std::max(o.stack.max_body_bytes, o.stack.max_batch_body_bytes);
    server_cfg.read_timeout = std::chrono::seconds(o.read_timeout_seconds);
    server_cfg.keep_alive_timeout = std::chrono::seconds(o.keep_alive_timeout_seconds);
    server_cfg.first_byte_timeout = std::chrono::seconds(o.first_byte_timeout_seconds);
    server_cfg.linger_time = std::chrono::seconds(o.linger_time_seconds);
    server_cfg.linger_bytes = o.linger_bytes;
    server_cfg.max_connections = o.max_connections;
    server_cfg.max_connections_per_address = o.max_connections_per_address;
    server_cfg.metrics = &stack->metrics;
    server::http_server http(*stack->app, log, server_cfg);
    try {
        http.listen();
    } catch (const std::system_error& e) {
        std::cerr << "error: cannot listen on " << o.host << ":" << o.port << ": " << e.what() << "\n";
        return 1;
    }

    expiry_sweeper sweeper(*stack->service, log, std::chrono::seconds(o.sweep_interval_seconds));
    std::unique_ptr<notify::webhook_dispatcher> webhooks;
    if (auto* outbox = stack->store->webhooks()) {
        notify::dispatcher_options d;
        d.workers = o.webhook_workers;
        d.timeout = std::chrono::seconds(o.webhook_timeout_seconds);
        d.retry.first_delay = o.webhook_first_retry_ms;
        d.retry.max_delay = core::millis{o.webhook_max_retry_seconds} * 1000;
        d.retry.window = core::millis{o.webhook_retry_window_hours} * 3'600'000;
        d.retry.disable_after = o.webhook_disable_after;
        d.allow_private = o.stack.allow_private_webhooks;
        d.user_agent = std::string("dinex-tracking-webhooks/") + DINEX_VERSION;
        webhooks = std::make_unique<notify::webhook_dispatcher>(*outbox, stack->clock, log, d);
        webhooks->register_in(stack->metrics);
        webhooks->start();
    }
    const std::string url = "http://" + o.host + ":" + std::to_string(http.port()) + "/";
    log.log(obs::level::info, "listening",
            {{"host", std::string_view(o.host)},
             {"port", std::int64_t{http.port()}},
             {"url", std::string_view(url)},
             {"store", stack->store->backend_name()},
             {"db", std::string_view(stack->store_detail)},
             {"version", std::string_view(DINEX_VERSION)}});
    log.flush();

    http.run();  // until SIGINT/SIGTERM; in-flight requests finish first

    if (webhooks) webhooks->stop();  // attempts under way finish; the rest stays in the outbox
    sweeper.stop();
    stack->shutdown();
    log.log(obs::level::info, "stopped");
    log.flush();
    return 0;
}

}  // namespace

command register_serve(CLI::App& cli) {
    auto o = std::make_shared<serve_options>();
    auto* cmd = cli.add_subcommand("serve", "Run the HTTP API and tracking page on a local store");
    cmd->add_option("--host", o->host, "Address to listen on")->envname("DINEX_HOST")->capture_default_str();
    cmd->add_option("--port", o->port, "TCP port (0: any free port)")
        ->envname("DINEX_PORT")
        ->capture_default_str();
    cmd->add_option("--store", o->stack.store,
                    "Storage back-end: sqlite, memory or dynamodb (table TABLE_NAME, AWS_* settings)")
        ->envname("DINEX_STORE")
        ->capture_default_str();
    cmd->add_option("--table", o->stack.dynamodb_table, "DynamoDB table of --store dynamodb")
        ->envname("TABLE_NAME");
    cmd->add_option("--data-dir", o->data_dir, "Directory for the default database file")
        ->envname("DINEX_DATA_DIR")
        ->capture_default_str();
    cmd->add_option("--db", o->db, "SQLite database file (default: <data-dir>/tracking.db)")
        ->envname("DINEX_DB");
    cmd->add_option("--threads", o->threads, "I/O threads (0: one per core)")
        ->envname("DINEX_THREADS")
        ->capture_default_str();
    cmd->add_option("--cors-origins", o->stack.cors_origins,
                    "Comma-separated allowed origins, '*' for any, '' for none")
        ->envname("DINEX_CORS_ORIGINS")
        ->capture_default_str();
    cmd->add_option("--log-level", o->log_level, "debug, info, warn or error")
        ->envname("DINEX_LOG_LEVEL")
        ->capture_default_str();
    cmd->add_option("--retention-days", o->stack.retention_days,
                    "Days a package is kept after its last change")
        ->envname("DINEX_RETENTION_DAYS")
        ->capture_default_str();
    cmd->add_option("--sweep-interval", o->sweep_interval_seconds, "Seconds between expiry sweeps")
        ->envname("DINEX_SWEEP_INTERVAL")
        ->capture_default_str();
    cmd->add_option("--read-timeout", o->read_timeout_seconds,
                    "Seconds a client has to send a whole request (slow clients are closed)")
        ->envname("DINEX_READ_TIMEOUT")
        ->capture_default_str();
    cmd->add_option("--keep-alive-timeout", o->keep_alive_timeout_seconds,
                    "Seconds an idle connection is kept")
        ->envname("DINEX_KEEP_ALIVE_TIMEOUT")
        ->capture_default_str();
    cmd->add_option("--max-connections", o->max_connections, "Open connections at most; more are refused")
        ->envname("DINEX_MAX_CONNECTIONS")
        ->capture_default_str();
    cmd->add_option("--max-connections-per-address", o->max_connections_per_address,
                    "Open connections one client address may hold; more from it are refused")
        ->envname("DINEX_MAX_CONNECTIONS_PER_ADDRESS")
        ->capture_default_str();
    cmd->add_option("--first-byte-timeout", o->first_byte_timeout_seconds,
                    "Seconds a new connection may stay silent before its first request starts")
        ->envname("DINEX_FIRST_BYTE_TIMEOUT")
        ->capture_default_str();
    cmd->add_option(
           "--linger-time", o->linger_time_seconds,
           "Seconds the rest of a refused request is read and dropped before closing (lingering close)")
        ->envname("DINEX_LINGER_TIME")
        ->capture_default_str();
    cmd->add_option("--linger-bytes", o->linger_bytes, "Bytes of a refused request read and dropped at most")
        ->envname("DINEX_LINGER_BYTES")
        ->capture_default_str();
    cmd->add_option("--max-anonymous-body-bytes", o->stack.max_anonymous_body_bytes,
                    "Largest body read from a client without a valid API key (any route)")
        ->envname("DINEX_MAX_ANONYMOUS_BODY_BYTES")
        ->capture_default_str();
    o->stack.lookup_cache_entries = 10000;
    cmd->add_option("--lookup-cache", o->stack.lookup_cache_entries,
                    "Packages whose lookup answer is kept in memory until they change (0: off)")
        ->envname("DINEX_LOOKUP_CACHE")
        ->capture_default_str();
    cmd->add_option("--max-body-bytes", o->stack.max_body_bytes, "Largest accepted request body")
        ->envname("DINEX_MAX_BODY_BYTES")
        ->capture_default_str();
    cmd->add_option("--max-batch-body-bytes", o->stack.max_batch_body_bytes,
                    "Largest accepted body of POST /tracking/batch (up to 500 events)")
        ->envname("DINEX_MAX_BATCH_BODY_BYTES")
        ->capture_default_str();
    cmd->add_option("--public-lookup", o->stack.public_lookup,
                    "Anonymous GET /tracking with the public view (false: a reader key is needed)")
        ->envname("DINEX_PUBLIC_LOOKUP")
        ->capture_default_str();
    cmd->add_option(
           "--public-view", o->stack.public_view,
           "What anonymous lookups show: limited (no notes, coordinates to ~1 km) or full (every field, "
           "as the original service)")
        ->envname("DINEX_PUBLIC_VIEW")
        ->capture_default_str();
    cmd->add_option("--environment", o->stack.environment,
                    "Environment name GET /health reports (dev, staging, prod …)")
        ->envname("DINEX_ENVIRONMENT")
        ->capture_default_str();
    cmd->add_option(
           "--rate-limit", o->stack.rate_limits,
           "Per-client limits as ROLE=RATE/BURST,... (anonymous, reader, writer, admin; RATE per second; "
           "'off'); default anonymous=10/20,reader=50/100,writer=200/400,admin=200/400")
        ->envname("DINEX_RATE_LIMIT");
    cmd->add_option("--rate-limiter", o->stack.rate_limiter,
                    "Where the counters live: memory (this process) or dynamodb (shared by instances; "
                    "--store dynamodb)")
        ->envname("DINEX_RATE_LIMITER")
        ->capture_default_str();
    cmd->add_option("--metrics", o->stack.metrics,
                    "Who may read GET /metrics (Prometheus): public, loopback (clients on 127.0.0.1/::1, or "
                    "an admin API "
                    "key), admin (an admin API key) or off (404)")
        ->envname("DINEX_METRICS")
        ->capture_default_str();
    cmd->add_option("--api-key-hashes", o->stack.configured_keys,
                    "Keys given by configuration, as role:id:sha256hex,... (hashes only)")
        ->envname("DINEX_API_KEY_HASHES");
    cmd->add_flag(
           "--allow-private-webhooks", o->stack.allow_private_webhooks,
           "Allow webhook receivers on loopback, private and link-local addresses (tests, closed networks)")
        ->envname("DINEX_ALLOW_PRIVATE_WEBHOOKS");
    cmd->add_option("--webhook-workers", o->webhook_workers, "Webhook deliveries attempted at once")
        ->envname("DINEX_WEBHOOK_WORKERS")
        ->capture_default_str();
    cmd->add_option("--webhook-timeout", o->webhook_timeout_seconds,
                    "Seconds a receiver has to answer one delivery")
        ->envname("DINEX_WEBHOOK_TIMEOUT")
        ->capture_default_str();
    cmd->add_option("--webhook-first-retry-ms", o->webhook_first_retry_ms,
                    "Delay before the first retry of a failed delivery; it doubles per failure")
        ->envname("DINEX_WEBHOOK_FIRST_RETRY_MS")
        ->capture_default_str();
    cmd->add_option("--webhook-max-retry-delay", o->webhook_max_retry_seconds,
                    "Longest delay between retries, seconds")
        ->envname("DINEX_WEBHOOK_MAX_RETRY_DELAY")
        ->capture_default_str();
    cmd->add_option("--webhook-retry-window", o->webhook_retry_window_hours,
                    "Hours a delivery is retried before it is given up")
        ->envname("DINEX_WEBHOOK_RETRY_WINDOW")
        ->capture_default_str();
    cmd->add_option("--webhook-disable-after", o->webhook_disable_after,
                    "Consecutive failed attempts after which a subscription is disabled")
        ->envname("DINEX_WEBHOOK_DISABLE_AFTER")
        ->capture_default_str();
    return {cmd, [o] { return serve(*o); }};
}

}  // namespace dinex::cli

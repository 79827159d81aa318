// `dinex-tracking lambda`: the AWS Lambda custom runtime (provided.al2023). Configuration comes
// from the function's environment; any failure before the first invocation is reported to the
// Runtime API's init/error endpoint, then the process exits non-zero.
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/stack.hpp"
#include "lambda/runtime.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/stream_consumer.hpp"
#include "notify/sns_publisher.hpp"
#include "obs/log.hpp"

namespace dinex::cli {
namespace {

struct lambda_options {
    std::string store;  // DINEX_STORE; default dynamodb when TABLE_NAME is set
    std::string db = "/tmp/dinex/tracking.db";
    std::string cors_origins = "*";
    std::string retention_days = "30";
    std::string max_body_bytes = std::to_string(api::app_config{}.max_body_bytes);
};

// The function's environment as the service's configuration, checked by cli::validate. A setting
// that is missing or wrong is an error for init/error, naming the variable.
core::result<stack_options> configure(const lambda_options& o) {
    const auto broken = [](std::string message) {
        return core::fail(core::error::make(core::errc::invalid_argument, std::move(message)));
    };
    stack_options s;
    s.shape = config_shape::lambda;
    s.store = o.store;
    const std::string table = environment_or("TABLE_NAME", "");
    if (s.store.empty() && !table.empty()) s.store = "dynamodb";
    if (s.store.empty()) {
        return broken("no store: set TABLE_NAME (DynamoDB) or DINEX_STORE (dynamodb, sqlite or memory)");
    }
    if (s.store == "sqlite") s.sqlite_path = o.db;
    if (s.store == "dynamodb") s.dynamodb_table = table;
    s.cors_origins = o.cors_origins;
    // No scrape in Lambda: its metrics are EMF lines (docs/OBSERVABILITY-LAMBDA.md).
    s.metrics = "off";
    s.events = stack_options::event_metrics::emf;
    auto retention = parse_bounded("DINEX_RETENTION_DAYS", o.retention_days, 1U, 3650U);
    if (!retention) return core::fail(std::move(retention.error()));
    s.retention_days = *retention;
    auto body =
        parse_bounded("DINEX_MAX_BODY_BYTES", o.max_body_bytes, std::size_t{1024}, lambda_payload_limit);
    if (!body) return core::fail(std::move(body.error()));
    s.max_body_bytes = *body;
    // Keys and limits (docs/SECURITY.md): on DynamoDB the rate-limit counters are shared by every
    // instance (DINEX_RATE_LIMITER=memory keeps them per instance).
    const std::string public_lookup = environment_or("DINEX_PUBLIC_LOOKUP", "true");
    if (public_lookup != "true" && public_lookup != "false") {
        return broken("DINEX_PUBLIC_LOOKUP must be true or false, got '" + public_lookup + "'");
    }
    s.public_lookup = public_lookup == "true";
    s.public_view = environment_or("DINEX_PUBLIC_VIEW", "limited");
    // The original function's variable (Terraform sets it); unset or empty is "dev".
    s.environment = environment_or("ENVIRONMENT", "");
    if (s.environment.empty()) s.environment = "dev";
    s.rate_limits = environment_or("DINEX_RATE_LIMIT", "");
    s.rate_limiter = environment_or("DINEX_RATE_LIMITER", s.store == "dynamodb" ? "dynamodb" : "memory");
    s.configured_keys = environment_or("DINEX_API_KEY_HASHES", "");
    if (auto valid = validate(s); !valid) return core::fail(std::move(valid.error()));
    return s;
}

int run_lambda(const lambda_options& o) {
    const char* endpoint = environment_variable("AWS_LAMBDA_RUNTIME_API");
    if (endpoint == nullptr || *endpoint == '\0') {
        std::cerr << "error: AWS_LAMBDA_RUNTIME_API is not set: the lambda command runs inside AWS Lambda "
                     "(or against a Runtime API stand-in)\n";
        return 1;
    }
    const auto lvl = lambda_log_level(environment_variable("DINEX_LOG_LEVEL"),
                                      environment_variable("AWS_LAMBDA_LOG_LEVEL"));
    obs::logger log(lvl.value_or(obs::level::info));
    lambda::runtime_client client(endpoint);

    auto init_failed = [&](std::string_view type, const std::string& message) {
        log.log(obs::level::error, "init failed",
                {{"error_type", type}, {"error", std::string_view(message)}});
        log.flush();
        if (auto posted = client.post_init_error(type, message); !posted) {
            std::cerr << "error: cannot report the init error: " << posted.error().message << "\n";
        }
        return 1;
    };

    std::unique_ptr<service_stack> stack;
    // Notifications (docs/NOTIFICATIONS.md): with SNS_TOPIC set, DynamoDB Streams events are
    // published to that topic; without it, a stream event is an invocation error.
    std::unique_ptr<notify::sns_publisher> publisher;
    std::unique_ptr<lambda::stream_consumer> streams;
    std::string environment;
    try {
        if (!lvl) {
            return init_failed("Runtime.InvalidConfiguration",
                               "invalid configuration: " + lvl.error().message);
        }
        auto configured = configure(o);
        if (!configured) {
            return init_failed("Runtime.InvalidConfiguration",
                               "invalid configuration: " + configured.error().message);
        }
        stack_options& s = *configured;
        environment = s.environment;
        // One TLS context for DynamoDB and SNS. Without a trust store no https:// endpoint can be
        // verified: that is the function's configuration (or its runtime), not a store outage.
        s.tls = aws::tls_context::for_this_system();
        if (s.store == "dynamodb") {
            if (auto dynamodb = aws::config_from_environment("dynamodb")) {
                if (auto missing = aws::missing_trust_for(*s.tls, dynamodb->endpoint)) {
                    return init_failed("Runtime.InvalidConfiguration", "DynamoDB at " + *missing);
                }
            }
        }
        std::optional<notify::sns_options> sns;
        if (const char* topic = environment_variable("SNS_TOPIC"); topic != nullptr && *topic != '\0') {
            auto from_env = notify::sns_options_from_environment();
            if (!from_env)
                return init_failed("Runtime.InvalidConfiguration", "notifications: " + from_env.error());
            if (auto missing = aws::missing_trust_for(*s.tls, from_env->service.endpoint)) {
                return init_failed("Runtime.InvalidConfiguration", "SNS at " + *missing);
            }
            from_env->http.tls = s.tls;
            sns = std::move(*from_env);
        }
        if (log.enabled(obs::level::debug)) s.dynamodb_capacity = capacity_logger(log);
        auto built = build_stack(s);
        if (!built) return init_failed("Runtime.StoreUnavailable", built.error().message);
        stack = std::move(*built);
        if (sns) {
            publisher = std::make_unique<notify::sns_publisher>(std::move(*sns));
            streams = std::make_unique<lambda::stream_consumer>(*publisher, log, environment);
            log.log(obs::level::info, "notifications enabled",
                    {{"notifier", publisher->backend_name()},
                     {"topic", std::string_view(publisher->options().topic_arn)},
                     {"endpoint", std::string_view(publisher->options().service.endpoint)}});
        }
        log.log(obs::level::info, "lambda runtime ready",
                {{"store", stack->store->backend_name()},
                 {"db", std::string_view(stack->store_detail)},
                 {"version", std::string_view(DINEX_VERSION)}});
    } catch (const std::exception& e) {
        return init_failed("Runtime.InitError", e.what());
    }

    const int status = lambda::run_loop(client, {.app = *stack->app,
                                                 .log = log,
                                                 .streams = streams.get(),
                                                 .events = stack->emf_events.get(),
                                                 .environment = environment});
    stack->shutdown();
    log.flush();
    return status;
}

}  // namespace

command register_lambda(CLI::App& cli) {
    auto o = std::make_shared<lambda_options>();
    o->store = environment_or("DINEX_STORE", "");
    auto* cmd = cli.add_subcommand(
        "lambda", "Serve API Gateway (HTTP API, payload 2.0) events as an AWS Lambda custom runtime");
    cmd->footer(
        "Needs AWS_LAMBDA_RUNTIME_API. Store: DINEX_STORE (dynamodb, sqlite, memory); default dynamodb when "
        "TABLE_NAME is set, otherwise the init fails. Configuration errors go to the Runtime API's "
        "init/error. "
        "SNS_TOPIC (an ARN) makes DynamoDB Streams events publish tracking.updated messages to SNS.");
    // No CLI11 checks here: a bad value must reach init/error, not stop the parser.
    cmd->add_option("--store", o->store, "Storage back-end (env DINEX_STORE)");
    cmd->add_option("--db", o->db, "SQLite file for --store sqlite")
        ->envname("DINEX_DB")
        ->capture_default_str();
    cmd->add_option("--cors-origins", o->cors_origins)->envname("DINEX_CORS_ORIGINS")->capture_default_str();
    cmd->add_option("--retention-days", o->retention_days)
        ->envname("DINEX_RETENTION_DAYS")
        ->capture_default_str();
    cmd->add_option("--max-body-bytes", o->max_body_bytes)
        ->envname("DINEX_MAX_BODY_BYTES")
        ->capture_default_str();
    return {cmd, [o] { return run_lambda(*o); }};
}

}  // namespace dinex::cli

#include "cli/config.hpp"

#include <cctype>
#include <cstdlib>

#include "auth/limits.hpp"

namespace dinex::cli {
namespace {

using core::errc;
using core::error;

// A setting as each shape names it.
struct setting {
    std::string_view flag;  // serve and the other commands
    std::string_view env;   // the Lambda's environment
    std::string_view in(config_shape s) const noexcept { return s == config_shape::lambda ? env : flag; }
};

constexpr setting store_setting{"--store", "DINEX_STORE"};
constexpr setting db_setting{"--db", "DINEX_DB"};
constexpr setting table_setting{"--table", "TABLE_NAME"};
constexpr setting retention_setting{"--retention-days", "DINEX_RETENTION_DAYS"};
constexpr setting body_setting{"--max-body-bytes", "DINEX_MAX_BODY_BYTES"};
constexpr setting batch_body_setting{"--max-batch-body-bytes", "DINEX_MAX_BATCH_BODY_BYTES"};
constexpr setting anonymous_body_setting{"--max-anonymous-body-bytes", "DINEX_MAX_ANONYMOUS_BODY_BYTES"};
constexpr setting public_view_setting{"--public-view", "DINEX_PUBLIC_VIEW"};
constexpr setting metrics_setting{"--metrics", "DINEX_METRICS"};
constexpr setting limiter_setting{"--rate-limiter", "DINEX_RATE_LIMITER"};
constexpr setting limits_setting{"--rate-limit", "DINEX_RATE_LIMIT"};
constexpr setting environment_setting{"--environment", "ENVIRONMENT"};

core::result<void> broken(std::string message) {
    return core::fail(error::make(errc::invalid_argument, std::move(message)));
}

core::result<void> within(const setting& s, config_shape shape, std::size_t value, std::size_t low,
                          std::size_t high) {
    if (value >= low && value <= high) return {};
    return broken(std::string(s.in(shape)) + " must be " + std::to_string(low) + " to " +
                  std::to_string(high) + ", got " + std::to_string(value));
}

core::result<void> one_of(const setting& s, config_shape shape, std::string_view value,
                          std::initializer_list<std::string_view> allowed) {
    for (const auto a : allowed) {
        if (a == value) return {};
    }
    std::string names;
    for (const auto a : allowed) {
        if (!names.empty()) names += ", ";
        names += a;
    }
    return broken(std::string(s.in(shape)) + " must be one of " + names + ", not '" + std::string(value) +
                  "'");
}

}  // namespace

core::result<void> validate(const stack_options& o) {
    const config_shape shape = o.shape;
    constexpr std::size_t mib16 = std::size_t{16} * 1024 * 1024;
    const std::size_t body_ceiling = shape == config_shape::lambda ? lambda_payload_limit : mib16;
    for (auto check : {
             one_of(store_setting, shape, o.store, {"sqlite", "memory", "dynamodb"}),
             within(retention_setting, shape, o.retention_days, 1, 3650),
             within(body_setting, shape, o.max_body_bytes, 1024, body_ceiling),
             within(batch_body_setting, shape, o.max_batch_body_bytes, 1024, body_ceiling),
             within(anonymous_body_setting, shape, o.max_anonymous_body_bytes, 0, mib16),
             one_of(public_view_setting, shape, o.public_view, {"limited", "full"}),
             one_of(metrics_setting, shape, o.metrics, {"public", "loopback", "admin", "off"}),
             one_of(limiter_setting, shape, o.rate_limiter, {"memory", "dynamodb"}),
         }) {
        if (!check) return check;
    }
    if (o.store == "sqlite" && o.sqlite_path.empty())
        return broken(std::string(db_setting.in(shape)) + " is empty");
    if (o.store == "dynamodb" && o.dynamodb_table.empty()) {
        return broken("the dynamodb store needs a table name (" + std::string(table_setting.in(shape)) + ")");
    }
    if (o.rate_limiter == "dynamodb" && o.store != "dynamodb") {
        return broken(std::string(limiter_setting.in(shape)) + " dynamodb needs " +
                      std::string(store_setting.in(shape)) + " dynamodb (the counters live in its table)");
    }
    auth::role_limits limits;
    if (auto bad = auth::parse_role_limits(o.rate_limits, limits)) {
        return broken(std::string(limits_setting.in(shape)) + ": " + *bad);
    }
    if (o.environment.empty()) return broken(std::string(environment_setting.in(shape)) + " is empty");
    return {};
}

core::result<obs::level> lambda_log_level(const char* dinex_log_level, const char* aws_lambda_log_level) {
    const auto fail = [](std::string message) {
        return core::fail(error::make(errc::invalid_argument, std::move(message)));
    };
    if (dinex_log_level != nullptr && *dinex_log_level != '\0') {
        if (const auto l = obs::parse_level(dinex_log_level)) return *l;
        return fail("DINEX_LOG_LEVEL must be one of debug, info, warn, error, not '" +
                    std::string(dinex_log_level) + "'");
    }
    if (aws_lambda_log_level == nullptr || *aws_lambda_log_level == '\0') return obs::level::info;
    std::string lower(aws_lambda_log_level);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "trace") return obs::level::debug;
    if (lower == "fatal") return obs::level::error;
    if (lower != "warning") {
        if (const auto l = obs::parse_level(lower)) return *l;
    }
    return fail("AWS_LAMBDA_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, not '" +
                std::string(aws_lambda_log_level) + "'");
}

const char* environment_variable(const char* name) noexcept { return std::getenv(name); }

std::string environment_or(const char* name, std::string fallback) {
    const char* v = environment_variable(name);
    return v ? std::string(v) : std::move(fallback);
}

}  // namespace dinex::cli

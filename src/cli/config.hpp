#pragma once
// The service's configuration (stack_options) checked by one set of rules, whichever shape runs
// it: the local server (`serve`: options, or DINEX_* variables through CLI11) or the Lambda
// (`lambda`: the function's environment, whose bad values must reach the Runtime API's init/error
// rather than stop an option parser). Each rule names the setting the way that shape is given it.
#include <charconv>
#include <string>
#include <string_view>

#include "cli/stack.hpp"
#include "core/error.hpp"
#include "obs/log.hpp"

namespace dinex::cli {

// The largest body a Lambda can be given: API Gateway's and Lambda's synchronous payload limit.
inline constexpr std::size_t lambda_payload_limit = std::size_t{6} * 1024 * 1024;

// Every rule `o` must meet; the first one broken, as an invalid_argument naming the setting the
// way `o.shape` is given it.
core::result<void> validate(const stack_options& o);

// The Lambda's log level: DINEX_LOG_LEVEL when set (debug, info, warn, error); else
// AWS_LAMBDA_LOG_LEVEL, which Lambda sets from the function's application log level (logging_config
// in Terraform: TRACE, DEBUG, INFO, WARN, ERROR or FATAL, any case; TRACE is debug here, FATAL
// error); else info. Null or empty is unset. A value outside those lists is an error naming the variable.
core::result<obs::level> lambda_log_level(const char* dinex_log_level, const char* aws_lambda_log_level);

// `text` as a whole number in [low, high], or an error naming `setting` and what was given.
template <class T>
core::result<T> parse_bounded(std::string_view setting, std::string_view text, T low, T high) {
    T v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < low || v > high) {
        return core::fail(core::error::make(
            core::errc::invalid_argument, std::string(setting) + " must be " + std::to_string(low) + " to " +
                                              std::to_string(high) + ", got '" + std::string(text) + "'"));
    }
    return v;
}

// The process environment. The one place the program reads it, apart from CLI11 (each option
// declares its variable where it is registered) and OpenSSL's own certificate variables.
const char* environment_variable(const char* name) noexcept;
std::string environment_or(const char* name, std::string fallback);

}  // namespace dinex::cli

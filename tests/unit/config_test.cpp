// The Lambda's log level from its two variables (src/cli/config.*): DINEX_LOG_LEVEL first, else
// Lambda's AWS_LAMBDA_LOG_LEVEL (the function's application log level), else info.
#include <gtest/gtest.h>

#include "cli/config.hpp"

namespace dinex::cli {
namespace {

TEST(LambdaLogLevel, UnsetOrEmptyIsInfo) {
    EXPECT_EQ(lambda_log_level(nullptr, nullptr).value(), obs::level::info);
    EXPECT_EQ(lambda_log_level("", "").value(), obs::level::info);
}

TEST(LambdaLogLevel, LambdasApplicationLevelsInAnyCase) {
    EXPECT_EQ(lambda_log_level(nullptr, "TRACE").value(), obs::level::debug);
    EXPECT_EQ(lambda_log_level(nullptr, "DEBUG").value(), obs::level::debug);
    EXPECT_EQ(lambda_log_level(nullptr, "INFO").value(), obs::level::info);
    EXPECT_EQ(lambda_log_level(nullptr, "warn").value(), obs::level::warn);
    EXPECT_EQ(lambda_log_level(nullptr, "Error").value(), obs::level::error);
    EXPECT_EQ(lambda_log_level(nullptr, "FATAL").value(), obs::level::error);
}

TEST(LambdaLogLevel, DinexLogLevelWins) {
    EXPECT_EQ(lambda_log_level("debug", "WARN").value(), obs::level::debug);
    EXPECT_EQ(lambda_log_level("", "WARN").value(), obs::level::warn);  // empty is unset
}

TEST(LambdaLogLevel, AnUnknownValueNamesItsVariable) {
    const auto aws = lambda_log_level(nullptr, "LOUD");
    ASSERT_FALSE(aws);
    EXPECT_EQ(aws.error().code, core::errc::invalid_argument);
    EXPECT_NE(aws.error().message.find("AWS_LAMBDA_LOG_LEVEL"), std::string::npos) << aws.error().message;
    EXPECT_NE(aws.error().message.find("'LOUD'"), std::string::npos);
    const auto dinex = lambda_log_level("trace", "INFO");  // TRACE is Lambda's name, not ours
    ASSERT_FALSE(dinex);
    EXPECT_NE(dinex.error().message.find("DINEX_LOG_LEVEL"), std::string::npos) << dinex.error().message;
    EXPECT_FALSE(lambda_log_level(nullptr, "WARNING"));  // Lambda's list has WARN only
}

}  // namespace
}  // namespace dinex::cli

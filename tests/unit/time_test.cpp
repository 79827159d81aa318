#include <gtest/gtest.h>

#include "core/time.hpp"

namespace dinex {
namespace {

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
    EXPECT_EQ(core::format_rfc3339(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(core::format_rfc3339(1'764'403'200'123), "2025-11-29T08:00:00.123Z");
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
    EXPECT_EQ(core::parse_rfc3339("2025-11-29T08:00:00Z"), 1'764'403'200'000);
    EXPECT_EQ(core::parse_rfc3339("2025-11-29t08:00:00.5z"), 1'764'403'200'500);
    EXPECT_EQ(core::parse_rfc3339("2025-11-29 03:00:00.123456789-05:00"), 1'764'403'200'123);
    EXPECT_EQ(core::parse_rfc3339("2025-11-29T10:30:00+02:30"), 1'764'403'200'000);
}

TEST(Rfc3339, RoundTrips) {
    for (core::millis t : {0LL, 1LL, 951'782'400'000LL, 1'764'403'200'999LL, 4'102'444'799'999LL}) {
        EXPECT_EQ(core::parse_rfc3339(core::format_rfc3339(t)), t);
    }
}

TEST(Rfc3339, RejectsWhatIsNotADateTime) {
    for (const char* bad : {"", "2025-11-29", "2025-11-29T08:00:00", "2025-02-30T00:00:00Z",
                            "2025-13-01T00:00:00Z", "2025-11-29T24:00:00Z", "2025-11-29T08:00:00+5:00",
                            "2025-11-29T08:00:00.Z", "2025-11-29T08:00:00Zjunk", "1764403200",
                            "2025/11/29T08:00:00Z", "2025-11-29T08:00:00.1234567891Z"}) {
        EXPECT_FALSE(core::parse_rfc3339(bad)) << bad;
    }
}

}  // namespace
}  // namespace dinex

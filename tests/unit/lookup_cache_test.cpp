#include <gtest/gtest.h>

#include "api/lookup_cache.hpp"

namespace dinex {
namespace {

TEST(LookupCache, OffWhenCapacityIsZero) {
    api::lookup_cache c(0);
    EXPECT_FALSE(c.enabled());
    c.put(c.begin("A1X"), "A1X", "body", 100);
    EXPECT_FALSE(c.get("A1X", 0));
}

TEST(LookupCache, ServesUntilInvalidatedOrExpired) {
    api::lookup_cache c(100);
    c.put(c.begin("A1X"), "A1X", "v1", 1000);
    EXPECT_EQ(c.get("A1X", 999), "v1");
    EXPECT_FALSE(c.get("A1X", 1001));  // expired packages are never served
    c.put(c.begin("A1X"), "A1X", "v1", 1000);
    c.invalidate("A1X");
    EXPECT_FALSE(c.get("A1X", 0));
}

TEST(LookupCache, AReadThatRacedAWriteIsNotCached) {
    api::lookup_cache c(100);
    const auto ticket = c.begin("A1X");   // the lookup reads the store …
    c.invalidate("A1X");                  // … a write commits meanwhile …
    c.put(ticket, "A1X", "stale", 1000);  // … so its answer may be stale and is dropped
    EXPECT_FALSE(c.get("A1X", 0));
    c.put(c.begin("A1X"), "A1X", "fresh", 1000);
    EXPECT_EQ(c.get("A1X", 0), "fresh");
}

TEST(LookupCache, StaysWithinCapacity) {
    api::lookup_cache c(16);  // one entry per shard
    for (int i = 0; i < 1000; ++i) {
        const std::string id = "PKG" + std::to_string(i);
        c.put(c.begin(id), id, "x", 1000);
    }
    int kept = 0;
    for (int i = 0; i < 1000; ++i) kept += c.get("PKG" + std::to_string(i), 0).has_value();
    EXPECT_LE(kept, 16);
    EXPECT_GT(kept, 0);
}

}  // namespace
}  // namespace dinex

#include <gtest/gtest.h>

#include "api/router.hpp"

namespace dinex {
namespace {

using api::match_route;
using api::route_id;

TEST(Router, MatchesRoutesWithAndWithoutStage) {
    EXPECT_EQ(match_route("/tracking").id, route_id::tracking);
    EXPECT_EQ(match_route("/tracking/").id, route_id::tracking);
    EXPECT_EQ(match_route("/health").id, route_id::health);
    EXPECT_EQ(match_route("/").id, route_id::web_page);
    const auto staged = match_route("/dev/tracking");
    EXPECT_EQ(staged.id, route_id::tracking);
    EXPECT_EQ(staged.stage, "dev");
    EXPECT_EQ(staged.label, "/tracking");
    EXPECT_EQ(match_route("/prod-2/health").id, route_id::health);
    EXPECT_EQ(match_route("/dev/").id, route_id::web_page);
    EXPECT_EQ(match_route("/dev/assets/app.js").asset, "app.js");
}

TEST(Router, StaffAppIsItsOwnFolder) {
    for (const char* p : {"/staff", "/staff/", "/staff/index.html"}) {
        const auto m = match_route(p);
        EXPECT_EQ(m.id, route_id::web_asset) << p;
        EXPECT_EQ(m.asset, "staff/index.html") << p;
        EXPECT_EQ(m.label, "/staff") << p;
    }
    EXPECT_EQ(match_route("/staff/sw.js").asset, "staff/sw.js");
    EXPECT_EQ(match_route("/dev/staff/app.js").asset, "staff/app.js");
    EXPECT_EQ(match_route("/dev/staff/app.js").stage, "dev");
    // Nothing outside web/staff/ is reachable through it, nor staff files through /assets/.
    for (const char* p : {"/staff/../app.js", "/staff/.hidden", "/staff/a/b.js", "/assets/staff/app.js",
                          "/staffx/app.js", "/dev/staff/../app.js"}) {
        EXPECT_EQ(match_route(p).id, route_id::unmatched) << p;
    }
    EXPECT_EQ(match_route("/staff/tracking").asset, "staff/tracking");  // no such file: 404 from the handler
}

TEST(Router, UnknownPathsDoNotMatch) {
    for (const char* p :
         {"", "/track", "/dev", "/a/b/tracking", "/dev/index.html", "/assets/../x", "/assets/.hidden",
          "/de v/tracking", "tracking", "/dev/unknown", "/tracking/health", "/health/tracking"}) {
        EXPECT_EQ(match_route(p).id, route_id::unmatched) << p;
    }
}

}  // namespace
}  // namespace dinex

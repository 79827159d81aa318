#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "../support/fakes.hpp"
#include "../support/requests.hpp"
#include "api/application.hpp"
#include "store/memory/memory_store.hpp"

namespace dinex {
namespace {

namespace json = boost::json;

class Application : public ::testing::Test {
protected:
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    core::tracking_service service{store, clock, ids};
    api::application app{service,
                         api::app_config{.version = "test", .cors_origins = {"https://shop.example"}}};

    api::response call(std::string method, std::string target, std::string body = {},
                       std::vector<api::header> headers = {}) {
        api::request req =
            testing::request_to(std::move(method), target, std::move(body), std::move(headers));
        req.request_id = "req-test";
        api::response out;
        bool called = false;
        app.handle(std::move(req), [&](api::response r) {
            out = std::move(r);
            called = true;
        });
        EXPECT_TRUE(called);
        return out;
    }

    static std::string header(const api::response& r, std::string_view name) {
        for (const auto& h : r.headers) {
            if (h.name == name) return h.value;
        }
        return {};
    }
    static json::value body(const api::response& r) { return json::parse(r.body); }
};

// The original's body (status "healthy", service, environment, timestamp in epoch seconds) plus ours.
TEST_F(Application, HealthAnswersTheOriginalFieldsPlusVersionAndStore) {
    const auto r = call("GET", "/health");
    EXPECT_EQ(r.status, 200);
    const std::string expected =
        R"({"status":"healthy","service":"dinex-tracking","environment":"dev","timestamp":)" +
        std::to_string(testing::base_time / 1000) + R"(,"version":"test","store":"memory"})";
    EXPECT_EQ(body(r), json::parse(expected));
    store.fail_next(1);
    const auto down = call("GET", "/dev/health");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(body(down).at("status"), "unhealthy");
    EXPECT_TRUE(body(down).at("error").is_string());
    EXPECT_EQ(down.log_note, "memory store: injected failure");  // the cause, for the log only
}

TEST_F(Application, PostThenGetTheOriginalWay) {
    const auto created =
        call("POST", "/tracking", R"({"tracking_id":"TRK001","location":"Lima","status":"IN_TRANSIT"})",
             {{"content-type", "application/json"}});
    ASSERT_EQ(created.status, 201) << created.body;
    const auto c = body(created);
    EXPECT_EQ(c.at("tracking_id"), "TRK001");
    EXPECT_EQ(c.at("location"), "Lima");
    EXPECT_EQ(c.at("timestamp").as_int64(), testing::base_time / 1000);
    EXPECT_TRUE(c.at("message").is_string());
    EXPECT_EQ(c.at("replayed"), false);

    const auto got = call("GET", "/dev/tracking?tracking_id=trk001");
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(body(got).at("status"), "IN_TRANSIT");
    EXPECT_EQ(body(got).at("events").as_array().size(), 1U);
}

TEST_F(Application, IdempotencyKeyHeaderReplaysWith200) {
    const std::vector<api::header> h = {{"idempotency-key", "k-1"}};
    const std::string b = R"({"tracking_id":"TRK002","location":"Lima","status":"PICKED_UP"})";
    const auto first = call("POST", "/tracking", b, h);
    EXPECT_EQ(first.status, 201);
    clock.advance(1000);
    const auto again = call("POST", "/tracking", b, h);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(body(again).at("event"), body(first).at("event"));
    EXPECT_EQ(body(again).at("replayed"), true);
    const auto clash =
        call("POST", "/tracking",
             R"({"tracking_id":"TRK002","location":"Lima","status":"PICKED_UP","event_id":"other"})", h);
    EXPECT_EQ(clash.status, 400);
}

TEST_F(Application, ErrorsCarryStatusCodeAndFieldDetails) {
    auto r = call("GET", "/tracking");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(body(r).at("details").at(0).at("field"), "tracking_id");
    EXPECT_EQ(body(r).at("request_id"), "req-test");
    // `error` is the string the original answered; the structure stands beside it.
    EXPECT_EQ(body(r).at("error"), "tracking_id requerido");
    EXPECT_EQ(body(r).at("code"), "invalid_argument");

    EXPECT_EQ(call("GET", "/tracking?tracking_id=!!").status, 400);
    r = call("GET", "/tracking?tracking_id=nope123");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(body(r).at("error"), "Tracking no encontrado");
    EXPECT_EQ(body(r).at("tracking_id"), "NOPE123");
    EXPECT_EQ(call("GET", "/nothing-here").status, 404);

    r = call("DELETE", "/tracking");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(header(r, "allow"), "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(body(r).at("error"), "Método no permitido");

    r = call("POST", "/tracking", "tracking_id=TRK001",
             {{"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 415);
    r = call("POST", "/tracking", "{}", {{"content-type", "application/json; charset=latin1"}});
    EXPECT_EQ(r.status, 415);

    r = call("POST", "/tracking", std::string(70 * 1024, ' '));
    EXPECT_EQ(r.status, 413);

    r = call("POST", "/tracking", R"({"tracking_id":"TRK001","location":"Lima","status":"WHATEVER"})");
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(body(r).at("details").at(0).at("field"), "status");

    r = call("POST", "/tracking", "{oops");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(header(r, "content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(body(r).at("error"), "JSON inválido");
    EXPECT_NE(r.log_note.find("body is not JSON"), std::string::npos);
}

TEST_F(Application, TerminalConflictIs409) {
    ASSERT_EQ(call("POST", "/tracking", R"({"tracking_id":"TRK003","location":"Lima","status":"DELIVERED"})")
                  .status,
              201);
    clock.advance(1000);
    const auto r =
        call("POST", "/tracking", R"({"tracking_id":"TRK003","location":"Lima","status":"IN_TRANSIT"})");
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(body(r).at("code"), "conflict");
}

TEST_F(Application, StoreOutageIs503WithRetryAfter) {
    store.fail_next(1);
    const auto r =
        call("POST", "/tracking", R"({"tracking_id":"TRK004","location":"Lima","status":"PICKED_UP"})");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(header(r, "retry-after"), "1");
}

TEST(ApplicationCache, AWriteIsVisibleToTheNextLookup) {
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    core::tracking_service service{store, clock, ids};
    api::application app{service, api::app_config{.lookup_cache_entries = 100}};
    auto call = [&](std::string method, std::string path, std::string query, std::string body) {
        api::request req;
        req.method = std::move(method);
        req.path = std::move(path);
        req.query = std::move(query);
        req.body = std::move(body);
        api::response out;
        app.handle(std::move(req), [&](api::response r) { out = std::move(r); });
        return out;
    };
    ASSERT_EQ(
        call("POST", "/tracking", "", R"({"tracking_id":"TRK9","location":"Lima","status":"PICKED_UP"})")
            .status,
        201);
    EXPECT_NE(call("GET", "/tracking", "tracking_id=TRK9", "").body.find("PICKED_UP"), std::string::npos);
    clock.advance(1000);
    ASSERT_EQ(
        call("POST", "/tracking", "", R"({"tracking_id":"TRK9","location":"Cusco","status":"IN_TRANSIT"})")
            .status,
        201);
    const auto after = json::parse(call("GET", "/tracking", "tracking_id=trk9", "").body);
    EXPECT_EQ(after.at("status"), "IN_TRANSIT");
    EXPECT_EQ(after.at("events").as_array().size(), 2U);
    clock.advance(31LL * 86'400'000);  // expired: not served from the cache either
    EXPECT_EQ(call("GET", "/tracking", "tracking_id=TRK9", "").status, 404);
}

TEST_F(Application, CorsFromConfiguration) {
    auto r = call("OPTIONS", "/tracking", {},
                  {{"origin", "https://shop.example"}, {"access-control-request-method", "POST"}});
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(header(r, "access-control-allow-origin"), "https://shop.example");
    EXPECT_NE(header(r, "access-control-allow-methods").find("POST"), std::string::npos);
    EXPECT_NE(header(r, "access-control-allow-headers").find("Idempotency-Key"), std::string::npos);

    r = call("OPTIONS", "/tracking", {},
             {{"origin", "https://evil.example"}, {"access-control-request-method", "POST"}});
    EXPECT_EQ(header(r, "access-control-allow-origin"), "");

    r = call("GET", "/health", {}, {{"origin", "https://shop.example"}});
    EXPECT_EQ(header(r, "access-control-allow-origin"), "https://shop.example");
    EXPECT_EQ(header(r, "vary"), "Origin");
}

}  // namespace
}  // namespace dinex

namespace dinex {
namespace {

// The router's Allow text (for 405 and OPTIONS) and the route table's methods are written in two
// places; a method added to one and not the other would be served but not announced, or the reverse.
TEST(RouteTable, AllowNamesExactlyTheMethodsTheTableServes) {
    const char* paths[] = {"/health",
                           "/tracking",
                           "/tracking/batch",
                           "/packages",
                           "/metrics",
                           "/",
                           "/assets/app.js",
                           "/subscriptions",
                           "/subscriptions/01ABC",
                           "/subscriptions/01ABC/deliveries"};
    for (const char* path : paths) {
        const auto route = api::match_route(path);
        ASSERT_NE(route.id, api::route_id::unmatched) << path;
        std::string expected;
        for (const auto& m : api::application::methods_of(route.id)) {
            expected += std::string(m.method) + ", ";
            if (m.method == "GET") expected += "HEAD, ";
        }
        expected += "OPTIONS";
        EXPECT_EQ(route.allow, expected) << path;
    }
}

}  // namespace
}  // namespace dinex

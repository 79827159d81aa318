// The pure parts of webhooks: the retry rules (core), the signature, the address and URL checks.
#include <gtest/gtest.h>

#include "core/system_ports.hpp"
#include "core/webhooks.hpp"
#include "notify/webhook.hpp"

namespace dinex {
namespace {

using core::attempt_report;
using core::attempt_verdict;
using core::delivery_state;
constexpr core::millis t0 = 1'764'403'200'000;
constexpr core::millis hour = 3'600'000;

core::delivery pending_delivery() {
    core::delivery d;
    d.id = "01DELIVERY0000000000000000";
    d.subscription_id = "01SUB";
    d.created_at = d.next_attempt_at = t0;
    return d;
}

attempt_report answered(int status, core::millis at = t0 + 1000) {
    return {status, status >= 300 ? "HTTP" : "", at};
}
attempt_report no_answer(core::millis at = t0 + 1000) { return {std::nullopt, "connection refused", at}; }

TEST(WebhookRules, WhatCountsAsDeliveredRetriedOrRejected) {
    const core::retry_policy p;
    const auto d = pending_delivery();
    EXPECT_EQ(core::judge(answered(200), d, p), attempt_verdict::delivered);
    EXPECT_EQ(core::judge(answered(204), d, p), attempt_verdict::delivered);
    EXPECT_EQ(core::judge(no_answer(), d, p), attempt_verdict::retry);
    for (const int s : {408, 429, 500, 502, 503, 504})
        EXPECT_EQ(core::judge(answered(s), d, p), attempt_verdict::retry) << s;
    for (const int s : {301, 400, 401, 403, 404, 422})
        EXPECT_EQ(core::judge(answered(s), d, p), attempt_verdict::rejected) << s;
    EXPECT_EQ(core::judge(answered(410), d, p), attempt_verdict::gone);
    // Out of the retry window, a transient failure is final.
    EXPECT_EQ(core::judge(no_answer(t0 + p.window - 1), d, p), attempt_verdict::retry);
    EXPECT_EQ(core::judge(no_answer(t0 + p.window), d, p), attempt_verdict::rejected);
}

TEST(WebhookRules, DelayDoublesUpToTheCapWithEqualJitter) {
    const core::retry_policy p{.first_delay = 1000, .max_delay = 8000};
    EXPECT_EQ(core::retry_delay(1, p, 0.0), 500);
    EXPECT_EQ(core::retry_delay(1, p, 1.0), 1000);
    EXPECT_EQ(core::retry_delay(2, p, 1.0), 2000);
    EXPECT_EQ(core::retry_delay(3, p, 0.5), 3000);
    EXPECT_EQ(core::retry_delay(4, p, 1.0), 8000);
    EXPECT_EQ(core::retry_delay(40, p, 1.0), 8000);
    EXPECT_EQ(core::retry_delay(1'000'000, p, 1.0), 8000);
}

TEST(WebhookRules, FailureBacksOffTheWholeSubscriptionAndSuccessResetsIt) {
    const core::retry_policy p{
        .first_delay = 1000, .max_delay = 60'000, .window = 24 * hour, .disable_after = 3};
    core::subscription s;
    const auto d = pending_delivery();

    auto e = core::apply_attempt(s, d, no_answer(t0 + 10), p, 1.0);
    EXPECT_EQ(e.state, delivery_state::pending);
    EXPECT_EQ(e.consecutive_failures, 1U);
    EXPECT_EQ(e.next_attempt_at, t0 + 10 + 1000);
    EXPECT_EQ(e.paused_until, t0 + 10 + 1000);
    EXPECT_FALSE(e.disable);

    s.consecutive_failures = 2;
    e = core::apply_attempt(s, d, answered(503, t0 + 20), p, 1.0);
    EXPECT_EQ(e.consecutive_failures, 3U);
    EXPECT_TRUE(e.disable);
    EXPECT_EQ(e.disabled_reason, "3 consecutive failed attempts");

    e = core::apply_attempt(s, d, answered(200, t0 + 30), p, 1.0);
    EXPECT_EQ(e.state, delivery_state::delivered);
    EXPECT_EQ(e.consecutive_failures, 0U);
    EXPECT_EQ(e.paused_until, 0);
}

TEST(WebhookRules, ARefusalFailsOneDeliveryWithoutPausingTheReceiver) {
    const core::retry_policy p;
    core::subscription s;
    s.paused_until = 0;
    const auto e = core::apply_attempt(s, pending_delivery(), answered(400), p, 0.5);
    EXPECT_EQ(e.state, delivery_state::failed);
    EXPECT_EQ(e.consecutive_failures, 1U);
    EXPECT_EQ(e.paused_until, 0);
}

TEST(WebhookRules, GoneDisablesAtOnce) {
    const auto e = core::apply_attempt({}, pending_delivery(), answered(410), {}, 0.5);
    EXPECT_EQ(e.state, delivery_state::failed);
    EXPECT_TRUE(e.disable);
    EXPECT_EQ(e.disabled_reason, "the receiver answered 410 Gone");
}

TEST(WebhookRules, WhoWantsWhichChange) {
    core::notification n;
    n.tracking_id = "TRK001";
    n.state = core::status::delivered;
    core::subscription s;
    EXPECT_TRUE(core::wants(s, n));
    s.statuses = {core::status::exception, core::status::delivered};
    EXPECT_TRUE(core::wants(s, n));
    s.statuses = {core::status::exception};
    EXPECT_FALSE(core::wants(s, n));
    s.statuses.clear();
    s.tracking_id = "TRK002";
    EXPECT_FALSE(core::wants(s, n));
    s.tracking_id = "TRK001";
    EXPECT_TRUE(core::wants(s, n));
    s.enabled = false;
    EXPECT_FALSE(core::wants(s, n));
}

TEST(WebhookRules, OnlyANewCurrentStateIsAChange) {
    core::append_outcome o;
    o.kind = core::outcome_kind::created;
    o.state.tracking_id = "TRK001";
    o.state.state = core::status::in_transit;
    o.state.location = "Lima";
    o.state.timestamp = t0;
    o.state.event_id = "E2";
    o.previous = o.state;
    o.previous->state = core::status::picked_up;
    const auto n = core::notification_of(o);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, (core::notification{"TRK001", core::status::in_transit, core::status::picked_up, "Lima", t0,
                                      "E2"}));
    o.previous.reset();
    EXPECT_FALSE(core::notification_of(o)->previous);
    o.kind = core::outcome_kind::late_arrival;
    EXPECT_FALSE(core::notification_of(o));
    o.kind = core::outcome_kind::replay;
    EXPECT_FALSE(core::notification_of(o));
}

TEST(WebhookIds, DeliveryIdsIncreaseWithinOneMillisecond) {
    struct fixed_clock final : core::clock {
        core::millis now() override { return t0; }
    } clock;
    core::monotonic_ulid_generator ids(clock);
    std::string last = ids.next_id();
    EXPECT_TRUE(core::is_delivery_cursor(last));
    for (int i = 0; i < 10'000; ++i) {
        std::string next = ids.next_id();
        ASSERT_LT(last, next);
        last = std::move(next);
    }
}

TEST(WebhookSignature, HmacSha256OverTimestampDotBody) {
    // Python: hmac.new(b'whsec_test', b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    EXPECT_EQ(notify::sign_delivery("whsec_test", "1700000000", R"({"a":1})"),
              "v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
    EXPECT_NE(notify::sign_delivery("whsec_test", "1700000001", R"({"a":1})"),
              notify::sign_delivery("whsec_test", "1700000000", R"({"a":1})"));
}

TEST(WebhookSignature, SecretsAreLongAndDistinct) {
    const auto a = notify::new_signing_secret();
    EXPECT_EQ(a.size(), 6U + 64U);
    EXPECT_TRUE(a.starts_with("whsec_"));
    EXPECT_NE(a, notify::new_signing_secret());
}

TEST(WebhookGuard, RefusesEveryNonPublicAddress) {
    const std::pair<const char*, const char*> refused[] = {{"127.0.0.1", "loopback"},
                                                           {"127.8.9.10", "loopback"},
                                                           {"0.0.0.0", "unspecified"},
                                                           {"10.1.2.3", "private"},
                                                           {"172.16.0.1", "private"},
                                                           {"172.31.255.255", "private"},
                                                           {"192.168.1.1", "private"},
                                                           {"169.254.169.254", "link-local"},
                                                           {"100.64.0.1", "shared address space"},
                                                           {"224.0.0.1", "multicast"},
                                                           {"255.255.255.255", "reserved"},
                                                           {"192.0.2.7", "documentation"},
                                                           {"::1", "loopback"},
                                                           {"::", "unspecified"},
                                                           {"fe80::1", "link-local"},
                                                           {"fc00::1", "unique local"},
                                                           {"fd12:3456::1", "unique local"},
                                                           {"ff02::1", "multicast"},
                                                           {"::ffff:127.0.0.1", "loopback"},
                                                           {"::ffff:10.0.0.1", "private"},
                                                           {"64:ff9b::a00:1", "private"},
                                                           {"2002:7f00:1::", "loopback"},
                                                           {"::127.0.0.1", "loopback"},
                                                           {"::7f00:1", "loopback"},
                                                           {"not-an-ip", "not an IP address"}};
    for (const auto& [address, why] : refused)
        EXPECT_EQ(notify::refused_address(address), std::string(why)) << address;
    for (const char* ok : {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"}) {
        EXPECT_FALSE(notify::refused_address(ok)) << ok;
    }
}

TEST(WebhookGuard, UrlRules) {
    auto rule = [](std::string_view url, bool allow_private = false) {
        auto r = notify::check_webhook_url(url, allow_private);
        if (r) return std::string("ok");
        EXPECT_EQ(r.error().details.size(), 1U);
        EXPECT_EQ(r.error().details[0].field, "url");
        return r.error().details[0].rule;
    };
    EXPECT_EQ(rule("https://hooks.example.com/dinex?x=1"), "ok");
    EXPECT_EQ(rule("http://93.184.216.34:8080/"), "ok");
    EXPECT_EQ(rule("http://hooks.127-0-0-1.example/"), "ok");  // a name is judged when connecting
    EXPECT_EQ(rule("http://127.0.0.1.nip.io/"), "host_name");  // Boost.URL 1.81 would misread it
    EXPECT_EQ(rule(""), "required");
    EXPECT_EQ(rule("/relative"), "absolute_url");
    EXPECT_EQ(rule("ftp://example.com/"), "scheme:http,https");
    EXPECT_EQ(rule("file:///etc/passwd"), "scheme:http,https");
    EXPECT_EQ(rule("https://user:pw@example.com/"), "no_userinfo");
    EXPECT_EQ(rule("https://example.com/#x"), "no_fragment");
    EXPECT_EQ(rule("http:///path"), "host_required");
    EXPECT_EQ(rule("https://example.com/" + std::string(2100, 'a')), "max_length:2048");
    for (const char* url :
         {"http://127.0.0.1:9000/", "http://localhost/", "http://LOCALHOST./", "http://a.localhost/",
          "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data", "http://[::1]/",
          "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/"}) {
        EXPECT_EQ(rule(url), "public_address") << url;
        EXPECT_EQ(rule(url, true), "ok") << url;
    }
}

}  // namespace
}  // namespace dinex

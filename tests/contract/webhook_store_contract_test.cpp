// One suite every core::webhook_store back-end must pass (the local stores: memory and SQLite).
// Outbox rows are written by store::append itself, so the suite drives appends too.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <set>

#include "../support/fakes.hpp"
#include "../support/sqlite.hpp"
#include "../support/stores.hpp"
#include "core/webhooks.hpp"
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace dinex {
namespace {

using core::delivery_state;
using core::status;
using testing::base_time;

struct backend {
    std::string name;
    bool durable;
    std::function<std::unique_ptr<core::store>(const std::filesystem::path& dir)> open;
};
void PrintTo(const backend& b, std::ostream* os) { *os << b.name; }

std::vector<backend> backends() {
    return {
        {"memory", false,
         [](const std::filesystem::path&) { return std::make_unique<store::memory_store>(); }},
        {"sqlite", true,
         [](const std::filesystem::path& dir) -> std::unique_ptr<core::store> {
             return testing::sqlite_or_throw((dir / "webhooks.db").string());
         }},
    };
}

class WebhookStoreContract : public ::testing::TestWithParam<backend> {
protected:
    void SetUp() override {
        dir_ = testing::fresh_temp_dir("dinex-webhooks");
        open();
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    void open() {
        store_.reset();
        store_ = GetParam().open(dir_);
        hooks_ = store_->webhooks();
        ASSERT_NE(hooks_, nullptr);
    }

    static core::submission submission(std::string tracking_id, std::string event_id, status s,
                                       core::millis ts) {
        return testing::given_submission(std::move(tracking_id), std::move(event_id), s, ts);
    }

    core::result<core::append_outcome> append(std::string tracking_id, std::string event_id, status s,
                                              core::millis ts) {
        const core::submission sub = submission(std::move(tracking_id), std::move(event_id), s, ts);
        return testing::append_and_wait(*store_, sub, {});
    }

    core::subscription subscribe(std::string id, std::vector<status> statuses = {},
                                 std::optional<std::string> tracking_id = std::nullopt) {
        core::subscription s;
        s.id = std::move(id);
        s.url = "https://hooks.example.com/" + s.id;
        s.statuses = std::move(statuses);
        s.tracking_id = std::move(tracking_id);
        s.secret = "whsec_" + s.id;
        s.created_at = base_time;
        EXPECT_TRUE(hooks_->create_subscription(s));
        return s;
    }

    std::vector<core::delivery> all_of(const std::string& subscription_id) {
        auto page = hooks_->deliveries_of(subscription_id, 200, std::nullopt);
        EXPECT_TRUE(page) << page.error().message;
        return page ? page->items : std::vector<core::delivery>{};
    }

    std::vector<core::delivery> due(core::millis now, std::size_t limit = 100,
                                    std::vector<std::string> busy = {}) {
        auto d = hooks_->due_deliveries(now, limit, busy);
        EXPECT_TRUE(d) << d.error().internal_message;
        return d ? *d : std::vector<core::delivery>{};
    }

    std::filesystem::path dir_;
    std::unique_ptr<core::store> store_;
    core::webhook_store* hooks_ = nullptr;
};

TEST_P(WebhookStoreContract, SubscriptionsAreCreatedListedFoundAndDeleted) {
    const auto a = subscribe("01SUBA", {status::delivered, status::exception}, "TRK001");
    const auto b = subscribe("01SUBB");
    EXPECT_EQ(hooks_->create_subscription(a).error().code, core::errc::conflict);
    const auto list = hooks_->list_subscriptions().value();
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0], a);
    EXPECT_EQ(list[1], b);
    EXPECT_EQ(hooks_->find_subscription("01SUBA").value(), a);
    EXPECT_FALSE(hooks_->find_subscription("01NONE").value());
    EXPECT_TRUE(hooks_->delete_subscription("01SUBA"));
    EXPECT_EQ(hooks_->delete_subscription("01SUBA").error().code, core::errc::not_found);
    EXPECT_EQ(hooks_->list_subscriptions().value().size(), 1U);
}

TEST_P(WebhookStoreContract, EveryStateChangeGetsADeliveryPerMatchingSubscriptionInItsTransaction) {
    subscribe("01ALL");
    subscribe("01DELIVERED", {status::delivered});
    subscribe("01ONEPACKAGE", {}, "TRK002");
    ASSERT_TRUE(append("TRK001", "e1", status::in_transit, base_time - 5000));
    ASSERT_TRUE(append("TRK001", "e2", status::delivered, base_time - 1000));
    // Neither a late arrival nor a replay changes the state: no delivery.
    ASSERT_EQ(append("TRK001", "e0", status::picked_up, base_time - 9000)->kind,
              core::outcome_kind::late_arrival);
    ASSERT_EQ(append("TRK001", "e2", status::delivered, base_time - 1000)->kind, core::outcome_kind::replay);
    // Refused by the lifecycle (newer than a terminal state): nothing stored, nothing delivered.
    ASSERT_FALSE(append("TRK001", "e3", status::in_transit, base_time));
    ASSERT_TRUE(append("TRK002", "f1", status::picked_up, base_time - 1000));

    const auto all = all_of("01ALL");
    ASSERT_EQ(all.size(), 3U);  // newest first
    EXPECT_EQ(all[2].message, (core::notification{"TRK001", status::in_transit, std::nullopt, "Lima",
                                                  base_time - 5000, "e1"}));
    EXPECT_EQ(all[1].message, (core::notification{"TRK001", status::delivered, status::in_transit, "Lima",
                                                  base_time - 1000, "e2"}));
    EXPECT_EQ(all[0].message.tracking_id, "TRK002");
    for (const auto& d : all) {
        EXPECT_EQ(d.state, delivery_state::pending);
        EXPECT_EQ(d.attempts, 0U);
        EXPECT_EQ(d.created_at, base_time);
        EXPECT_EQ(d.next_attempt_at, base_time);
    }
    const auto delivered = all_of("01DELIVERED");
    ASSERT_EQ(delivered.size(), 1U);
    EXPECT_EQ(delivered[0].message.event_id, "e2");
    const auto one = all_of("01ONEPACKAGE");
    ASSERT_EQ(one.size(), 1U);
    EXPECT_EQ(one[0].message.event_id, "f1");
    EXPECT_EQ(hooks_->counts().value().pending, 5U);
}

TEST_P(WebhookStoreContract, ABatchWritesTheDeliveriesOfEachOfItsStateChanges) {
    subscribe("01ALL");
    const auto item = &WebhookStoreContract::submission;
    std::vector<core::submission> batch = {
        item("TRK001", "e1", status::picked_up, base_time - 3000),
        item("TRK001", "e2", status::in_transit, base_time - 2000),
        item("TRK001", "e0", status::info_received, base_time - 9000),  // late: no change
        item("TRK002", "f1", status::delivered, base_time - 1000),
        item("TRK002", "f2", status::in_transit, base_time),  // after a terminal state: refused
    };
    std::promise<std::vector<core::result<core::append_outcome>>> p;
    auto f = p.get_future();
    store_->append_batch(
        batch, {}, [&p](std::vector<core::result<core::append_outcome>> r) { p.set_value(std::move(r)); });
    const auto results = f.get();
    ASSERT_EQ(results.size(), 5U);
    EXPECT_FALSE(results[4]);
    std::vector<std::string> delivered_events;
    for (const auto& d : all_of("01ALL")) delivered_events.push_back(d.message.event_id);
    EXPECT_EQ(delivered_events, (std::vector<std::string>{"f1", "e2", "e1"}));  // newest first
}

TEST_P(WebhookStoreContract, DisabledSubscriptionsGetNoNewDeliveries) {
    subscribe("01OFF");
    ASSERT_TRUE(hooks_->set_enabled("01OFF", false, base_time, "testing"));
    ASSERT_TRUE(append("TRK001", "e1", status::in_transit, base_time));
    EXPECT_TRUE(all_of("01OFF").empty());
    const auto s = hooks_->find_subscription("01OFF").value().value();
    EXPECT_FALSE(s.enabled);
    EXPECT_EQ(s.disabled_at, base_time);
    EXPECT_EQ(s.disabled_reason, "testing");
    const auto c = hooks_->counts().value();
    EXPECT_EQ(c.enabled_subscriptions, 0U);
    EXPECT_EQ(c.disabled_subscriptions, 1U);
    const auto back = hooks_->set_enabled("01OFF", true, base_time + 1, "").value();
    EXPECT_TRUE(back.enabled);
    EXPECT_FALSE(back.disabled_at);
    ASSERT_TRUE(append("TRK001", "e2", status::out_for_delivery, base_time + 1));
    EXPECT_EQ(all_of("01OFF").size(), 1U);
    EXPECT_EQ(hooks_->set_enabled("01NONE", true, base_time, "").error().code, core::errc::not_found);
}

TEST_P(WebhookStoreContract, DueDeliveriesRespectTimePausesInFlightAndLimit) {
    subscribe("01SUB");
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(append("TRK00" + std::to_string(i), "e", status::in_transit, base_time - 1000));
    }
    auto d = due(base_time);
    ASSERT_EQ(d.size(), 5U);
    EXPECT_TRUE(std::is_sorted(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.id < b.id; }));
    EXPECT_EQ(due(base_time, 2).size(), 2U);
    EXPECT_EQ(due(base_time, 10, {d[0].id, d[1].id}).size(), 3U);
    EXPECT_TRUE(due(base_time - 1).empty());
    EXPECT_EQ(hooks_->next_due().value(), base_time);

    // A failure pauses the subscription: nothing of it is due until the pause ends.
    const core::retry_policy p{.first_delay = 1000, .max_delay = 60'000};
    const auto e =
        hooks_->record_attempt(d[0], {std::nullopt, "connection refused", base_time + 10}, p, 1.0).value();
    EXPECT_EQ(e.paused_until, base_time + 1010);
    EXPECT_TRUE(due(base_time + 1009).empty());
    EXPECT_EQ(due(base_time + 1010).size(), 5U);
    EXPECT_EQ(hooks_->next_due().value(), base_time + 1010);

    ASSERT_TRUE(hooks_->set_enabled("01SUB", false, base_time, "pause"));
    EXPECT_TRUE(due(base_time + 5000).empty());
    EXPECT_FALSE(hooks_->next_due().value());
}

TEST_P(WebhookStoreContract, AttemptsAreRecordedOnDeliveryAndSubscription) {
    subscribe("01SUB");
    ASSERT_TRUE(append("TRK001", "e1", status::in_transit, base_time));
    ASSERT_TRUE(append("TRK002", "e1", status::in_transit, base_time));
    const auto d = due(base_time);
    ASSERT_EQ(d.size(), 2U);
    const core::retry_policy p{
        .first_delay = 1000, .max_delay = 60'000, .window = 86'400'000, .disable_after = 3};

    auto e = hooks_->record_attempt(d[0], {503, "HTTP 503", base_time + 5}, p, 1.0).value();
    EXPECT_EQ(e.state, delivery_state::pending);
    auto stored = all_of("01SUB");
    auto first = std::find_if(stored.begin(), stored.end(), [&](const auto& x) { return x.id == d[0].id; });
    ASSERT_NE(first, stored.end());
    EXPECT_EQ(first->attempts, 1U);
    EXPECT_EQ(first->last_http_status, 503);
    EXPECT_EQ(first->last_error, "HTTP 503");
    EXPECT_EQ(first->last_attempt_at, base_time + 5);
    EXPECT_EQ(first->next_attempt_at, base_time + 1005);
    EXPECT_EQ(hooks_->find_subscription("01SUB").value()->consecutive_failures, 1U);

    e = hooks_->record_attempt(d[1], {200, "", base_time + 2000}, p, 1.0).value();
    EXPECT_EQ(e.state, delivery_state::delivered);
    auto sub = hooks_->find_subscription("01SUB").value().value();
    EXPECT_EQ(sub.consecutive_failures, 0U);
    EXPECT_EQ(sub.paused_until, 0);
    EXPECT_EQ(sub.last_success_at, base_time + 2000);
    EXPECT_EQ(hooks_->counts().value().pending, 1U);

    // Recording twice does not count twice: only a pending delivery takes an attempt.
    ASSERT_TRUE(hooks_->record_attempt(d[1], {200, "", base_time + 2001}, p, 1.0));
    stored = all_of("01SUB");
    EXPECT_EQ(std::count_if(stored.begin(), stored.end(), [](const auto& x) { return x.attempts == 1; }), 2);

    // Three failures in a row disable the subscription.
    for (int i = 0; i < 3; ++i) {
        e = hooks_->record_attempt(d[0], {std::nullopt, "timeout", base_time + 10'000 * (i + 1)}, p, 0.0)
                .value();
    }
    EXPECT_TRUE(e.disable);
    sub = hooks_->find_subscription("01SUB").value().value();
    EXPECT_FALSE(sub.enabled);
    EXPECT_EQ(sub.disabled_reason, "3 consecutive failed attempts");
    EXPECT_EQ(sub.disabled_at, base_time + 30'000);

    ASSERT_TRUE(hooks_->delete_subscription("01SUB"));
    EXPECT_EQ(hooks_->record_attempt(d[0], {200, "", base_time}, p, 0.0).error().code, core::errc::not_found);
    EXPECT_EQ(hooks_->counts().value().pending, 0U);
}

TEST_P(WebhookStoreContract, DeliveryHistoryPagesNewestFirst) {
    subscribe("01SUB");
    for (int i = 0; i < 7; ++i)
        ASSERT_TRUE(append("TRK1" + std::to_string(i) + "0", "e", status::in_transit, base_time));
    std::vector<std::string> seen;
    std::optional<std::string> cursor;
    int pages = 0;
    do {
        auto page = hooks_->deliveries_of("01SUB", 3,
                                          cursor ? std::optional<std::string_view>(*cursor) : std::nullopt);
        ASSERT_TRUE(page) << page.error().message;
        for (const auto& d : page->items) seen.push_back(d.id);
        cursor = page->next_cursor;
        ++pages;
    } while (cursor && pages < 10);
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(seen.size(), 7U);
    EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 7U);
    const auto bad = hooks_->deliveries_of("01SUB", 3, std::string_view("not-a-cursor"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().details.at(0).field, "cursor");
    EXPECT_EQ(hooks_->deliveries_of("01NONE", 3, std::nullopt).error().code, core::errc::not_found);
}

TEST_P(WebhookStoreContract, FinishedDeliveriesArePurgedPendingOnesNever) {
    subscribe("01SUB");
    ASSERT_TRUE(append("TRK001", "e1", status::in_transit, base_time));
    ASSERT_TRUE(append("TRK002", "e1", status::in_transit, base_time));
    const auto d = due(base_time);
    ASSERT_TRUE(hooks_->record_attempt(d[0], {200, "", base_time + 10}, {}, 0.5));
    EXPECT_EQ(hooks_->purge_deliveries(base_time + 10).value(), 0U);
    EXPECT_EQ(hooks_->purge_deliveries(base_time + 11).value(), 1U);
    EXPECT_EQ(hooks_->purge_deliveries(base_time + 1'000'000).value(), 0U);
    ASSERT_EQ(all_of("01SUB").size(), 1U);
    EXPECT_EQ(all_of("01SUB")[0].id, d[1].id);
}

TEST_P(WebhookStoreContract, TheStoreWakesTheDispatcherAfterCommittingDeliveries) {
    std::atomic<int> wakes{0};
    hooks_->on_new_deliveries([&] { ++wakes; });
    ASSERT_TRUE(append("TRK001", "e1", status::in_transit, base_time));
    EXPECT_EQ(wakes.load(), 0);  // no subscription, no delivery
    subscribe("01SUB");
    ASSERT_TRUE(append("TRK001", "e2", status::out_for_delivery, base_time + 1));
    EXPECT_EQ(wakes.load(), 1);
    hooks_->on_new_deliveries(nullptr);
}

TEST_P(WebhookStoreContract, PendingDeliveriesAndSubscriptionsSurviveReopening) {
    if (!GetParam().durable) GTEST_SKIP() << "the memory store keeps nothing across a restart";
    subscribe("01SUB", {status::in_transit});
    ASSERT_TRUE(append("TRK001", "e1", status::in_transit, base_time));
    open();
    ASSERT_EQ(due(base_time).size(), 1U);
    // The reopened writer knows the subscriptions: a new change is matched too.
    ASSERT_TRUE(append("TRK002", "e1", status::in_transit, base_time));
    EXPECT_EQ(due(base_time).size(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookStoreContract, ::testing::ValuesIn(backends()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace dinex

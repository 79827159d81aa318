#pragma once
// A complete store in process memory: the reference back-end for the contract suite and for unit
// tests of the layers above. It is as strict as the durable stores (same atomicity, same rules) and
// can be told to fail chosen calls, to test how callers handle a failing back-end.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include "core/ports.hpp"
#include "core/system_ports.hpp"
#include "core/webhooks.hpp"

namespace dinex::store {

class memory_store final : public core::store, public core::webhook_store {
public:
    std::string_view backend_name() const noexcept override { return "memory"; }
    core::result<std::optional<core::package>> find(std::string_view tracking_id, core::millis now,
                                                    std::size_t max_events) override;
    void append(core::submission sub, const core::lifecycle_policy& policy,
                core::append_callback done) override;
    void append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                      core::batch_callback done) override;
    // Reads every package: this store is for tests and small local runs, where that is cheap.
    core::result<core::package_page> list_packages(const core::package_query& q) override;
    core::result<core::export_page> export_packages(std::string_view cursor, std::size_t limit,
                                                    core::millis now) override;
    core::result<std::size_t> purge_expired(core::millis now) override;
    core::result<void> ping() override;
    // Nothing to drain: every write is done, and its callback has run, when append returns.
    void stop() override {}
    core::webhook_store* webhooks() noexcept override { return this; }

    core::result<void> create_subscription(const core::subscription& s) override;
    core::result<std::vector<core::subscription>> list_subscriptions() override;
    core::result<std::optional<core::subscription>> find_subscription(std::string_view id) override;
    core::result<void> delete_subscription(std::string_view id) override;
    core::result<core::subscription> set_enabled(std::string_view id, bool enabled, core::millis now,
                                                 std::string_view reason) override;
    core::result<std::vector<core::delivery>> due_deliveries(
        core::millis now, std::size_t limit, const std::vector<std::string>& in_flight) override;
    core::result<core::attempt_effect> record_attempt(const core::delivery& d, const core::attempt_report& r,
                                                      const core::retry_policy& policy,
                                                      double jitter01) override;
    core::result<core::delivery_page> deliveries_of(std::string_view subscription_id, std::size_t limit,
                                                    std::optional<std::string_view> cursor) override;
    core::result<core::outbox_counts> counts() override;
    core::result<std::size_t> purge_deliveries(core::millis before) override;
    core::result<std::optional<core::millis>> next_due() override;
    void on_new_deliveries(std::function<void()> wake) override;

    // The next `n` calls of any operation fail with `unavailable` (a simulated outage).
    void fail_next(int n) { failures_left_ = n; }

private:
    bool should_fail();
    // One submission, under mutex_: the single per-item path of append and append_batch.
    // Applies one submission (and writes its outbox rows); the caller holds mutex_.
    core::result<core::append_outcome> apply_locked(const core::submission& sub,
                                                    const core::lifecycle_policy& policy,
                                                    bool& deliveries_added);
    void wake_dispatcher_if(bool deliveries_added);

    // Events keyed newest first: descending timestamp, then descending arrival order.
    struct event_key {
        core::millis timestamp;
        std::uint64_t sequence;
        bool operator<(const event_key& o) const {
            return std::tie(o.timestamp, o.sequence) < std::tie(timestamp, sequence);
        }
    };
    struct record {
        core::package_state state;
        std::map<event_key, core::event> events;
        std::unordered_map<std::string, event_key> by_id;
    };

    std::mutex mutex_;  // guards packages, subscriptions and the outbox: one atomic step for all
    std::unordered_map<std::string, record> packages_;
    std::map<std::string, core::subscription> subscriptions_;
    std::map<std::string, core::delivery> outbox_;  // by id (ULID): creation order
    core::system_clock clock_;
    core::monotonic_ulid_generator delivery_ids_{clock_};
    std::mutex wake_mutex_;
    std::function<void()> wake_;
    std::atomic<int> failures_left_{0};
};

}  // namespace dinex::store

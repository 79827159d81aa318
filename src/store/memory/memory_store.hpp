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

namespace dinex::store {

class memory_store final : public core::store {
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

    // The next `n` calls of any operation fail with `unavailable` (a simulated outage).
    void fail_next(int n) { failures_left_ = n; }

private:
    bool should_fail();
    // One submission, under mutex_: the single per-item path of append and append_batch.
    core::result<core::append_outcome> apply_locked(const core::submission& sub,
                                                    const core::lifecycle_policy& policy);

    // Events keyed newest first: descending timestamp, then descending event_id.
    struct event_key {
        core::millis timestamp;
        std::string event_id;
        bool operator<(const event_key& o) const {
            return std::tie(o.timestamp, o.event_id) < std::tie(timestamp, event_id);
        }
    };
    struct record {
        core::package_state state;
        std::map<event_key, core::event> events;
        std::unordered_map<std::string, event_key> by_id;
    };

    std::mutex mutex_;
    std::unordered_map<std::string, record> packages_;
    std::atomic<int> failures_left_{0};
};

}  // namespace dinex::store

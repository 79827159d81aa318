#include "store/memory/memory_store.hpp"

namespace dinex::store {

bool memory_store::should_fail() {
    int left = failures_left_.load();
    while (left > 0) {
        if (failures_left_.compare_exchange_weak(left, left - 1)) return true;
    }
    return false;
}

core::result<std::optional<core::package>> memory_store::find(std::string_view tracking_id,
                                                              core::millis now,
                                                              std::size_t max_events) {
    if (should_fail()) return core::fail(core::error::unavailable_error("memory store: injected failure"));
    const std::lock_guard lock(mutex_);
    const auto it = packages_.find(std::string(tracking_id));
    if (it == packages_.end() || it->second.state.expires_at < now) return std::nullopt;
    core::package p{it->second.state, {}};
    for (const auto& [key, ev] : it->second.events) {
        if (p.events.size() >= max_events) break;
        p.events.push_back(ev);
    }
    return p;
}

void memory_store::append(core::submission sub, const core::lifecycle_policy& policy,
                          core::append_callback done) {
    if (should_fail()) {
        done(core::fail(core::error::unavailable_error("memory store: injected failure")));
        return;
    }
    core::result<core::append_outcome> outcome;
    {
        const std::lock_guard lock(mutex_);
        const core::event& in = sub.incoming;
        auto it = packages_.find(in.tracking_id);
        // An expired package is gone, as if the sweep had already run.
        if (it != packages_.end() && it->second.state.expires_at < in.received_at) {
            packages_.erase(it);
            it = packages_.end();
        }
        std::optional<core::package_state> current;
        std::optional<core::event> same_id;
        if (it != packages_.end()) {
            current = it->second.state;
            if (const auto k = it->second.by_id.find(in.event_id); k != it->second.by_id.end()) {
                same_id = it->second.events.at(k->second);
            }
        }
        outcome = core::decide(current, same_id, sub, policy);
        if (outcome && outcome->kind != core::outcome_kind::replay) {
            record& r = packages_[in.tracking_id];
            r.state = outcome->state;
            const event_key key{in.timestamp, in.event_id};
            r.events.emplace(key, outcome->stored);
            r.by_id.emplace(in.event_id, key);
        }
    }
    done(std::move(outcome));
}

core::result<std::size_t> memory_store::purge_expired(core::millis now) {
    if (should_fail()) return core::fail(core::error::unavailable_error("memory store: injected failure"));
    const std::lock_guard lock(mutex_);
    return std::erase_if(packages_, [now](const auto& kv) { return kv.second.state.expires_at < now; });
}

core::result<void> memory_store::ping() {
    if (should_fail()) return core::fail(core::error::unavailable_error("memory store: injected failure"));
    return {};
}

}  // namespace dinex::store

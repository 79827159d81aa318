#include "store/memory/memory_store.hpp"

#include <algorithm>

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

core::result<core::append_outcome> memory_store::apply_locked(const core::submission& sub,
                                                             const core::lifecycle_policy& policy) {
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
    auto outcome = core::decide(current, same_id, sub, policy);
    if (outcome && outcome->kind != core::outcome_kind::replay) {
        record& r = packages_[in.tracking_id];
        r.state = outcome->state;
        const event_key key{in.timestamp, in.event_id};
        r.events.emplace(key, outcome->stored);
        r.by_id.emplace(in.event_id, key);
    }
    return outcome;
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
        outcome = apply_locked(sub, policy);
    }
    done(std::move(outcome));
}

void memory_store::append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                                core::batch_callback done) {
    std::vector<core::result<core::append_outcome>> out;
    out.reserve(subs.size());
    if (should_fail()) {
        for (std::size_t i = 0; i < subs.size(); ++i) {
            out.emplace_back(core::fail(core::error::unavailable_error("memory store: injected failure")));
        }
        done(std::move(out));
        return;
    }
    {
        const std::lock_guard lock(mutex_);
        for (const auto& sub : subs) out.push_back(apply_locked(sub, policy));
    }
    done(std::move(out));
}

core::result<core::package_page> memory_store::list_packages(const core::package_query& q) {
    if (should_fail()) return core::fail(core::error::unavailable_error("memory store: injected failure"));
    const auto below = [](const core::package_state& s, const core::package_cursor& c) {
        return s.updated_at != c.updated_at ? s.updated_at < c.updated_at : s.tracking_id < c.tracking_id;
    };
    std::vector<core::package_state> hits;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& [id, r] : packages_) {
            const auto& s = r.state;
            if (s.expires_at < q.now) continue;
            if (!q.statuses.empty() &&
                std::find(q.statuses.begin(), q.statuses.end(), s.state) == q.statuses.end()) continue;
            if (q.stale_before && s.updated_at >= *q.stale_before) continue;
            if (q.after && !below(s, *q.after)) continue;
            hits.push_back(s);
        }
    }
    std::sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
        return below(b, core::package_cursor{a.updated_at, a.tracking_id});
    });
    core::package_page page;
    if (hits.size() > q.limit) {
        hits.resize(q.limit);
        page.next = core::package_cursor{hits.back().updated_at, hits.back().tracking_id};
    }
    page.packages = std::move(hits);
    return page;
}

core::result<core::export_page> memory_store::export_packages(std::string_view cursor, std::size_t limit,
                                                              core::millis now) {
    if (should_fail()) return core::fail(core::error::unavailable_error("memory store: injected failure"));
    const std::lock_guard lock(mutex_);
    std::vector<const std::string*> ids;
    for (const auto& [id, r] : packages_) {
        if (id > cursor && r.state.expires_at >= now) ids.push_back(&id);
    }
    std::sort(ids.begin(), ids.end(), [](const auto* a, const auto* b) { return *a < *b; });
    core::export_page page;
    if (ids.size() > limit) {
        ids.resize(limit);
        page.next = *ids.back();
    }
    for (const auto* id : ids) {
        const record& r = packages_.at(*id);
        core::package p{r.state, {}};
        p.events.reserve(r.events.size());
        for (const auto& [key, ev] : r.events) p.events.push_back(ev);
        page.packages.push_back(std::move(p));
    }
    return page;
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

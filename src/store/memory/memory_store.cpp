#include "store/memory/memory_store.hpp"

#include <algorithm>

#include "core/listing.hpp"

namespace dinex::store {

bool memory_store::should_fail() {
    int left = failures_left_.load();
    while (left > 0) {
        if (failures_left_.compare_exchange_weak(left, left - 1)) return true;
    }
    return false;
}

core::result<std::optional<core::package>> memory_store::find(std::string_view tracking_id, core::millis now,
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
                                                              const core::lifecycle_policy& policy,
                                                              bool& deliveries_added) {
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
        const event_key key{in.timestamp, outcome->stored.sequence};
        r.events.emplace(key, outcome->stored);
        r.by_id.emplace(in.event_id, key);
        // The outbox rows, under the same lock: one atomic step with the event.
        if (auto n = subscriptions_.empty() ? std::nullopt : core::notification_of(*outcome)) {
            for (const auto& [id, subscriber] : subscriptions_) {
                if (!core::wants(subscriber, *n)) continue;
                core::delivery d;
                d.id = delivery_ids_.next_id();
                d.subscription_id = id;
                d.message = *n;
                d.created_at = d.next_attempt_at = in.received_at;
                outbox_.emplace(d.id, std::move(d));
                deliveries_added = true;
            }
        }
    }
    return outcome;
}

void memory_store::wake_dispatcher_if(bool deliveries_added) {
    if (!deliveries_added) return;
    const std::lock_guard lock(wake_mutex_);
    if (wake_) wake_();
}

void memory_store::append(core::submission sub, const core::lifecycle_policy& policy,
                          core::append_callback done) {
    if (should_fail()) {
        done(core::fail(core::error::unavailable_error("memory store: injected failure")));
        return;
    }
    core::result<core::append_outcome> outcome;
    bool deliveries_added = false;
    {
        const std::lock_guard lock(mutex_);
        outcome = apply_locked(sub, policy, deliveries_added);
    }
    wake_dispatcher_if(deliveries_added);
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
    bool deliveries_added = false;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& sub : subs) out.push_back(apply_locked(sub, policy, deliveries_added));
    }
    wake_dispatcher_if(deliveries_added);
    done(std::move(out));
}

core::result<core::package_page> memory_store::list_packages(const core::package_query& q) {
    if (should_fail()) return core::fail(core::error::unavailable_error("memory store: injected failure"));
    const core::package_cursor bound = core::listing_bound(q);
    std::vector<core::package_state> hits;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& [id, r] : packages_) {
            const auto& s = r.state;
            if (s.expires_at < q.now) continue;
            if (!q.statuses.empty() &&
                std::find(q.statuses.begin(), q.statuses.end(), s.state) == q.statuses.end())
                continue;
            if (!core::listed_after(s, bound)) continue;
            hits.push_back(s);
        }
    }
    return core::listing_page(std::move(hits), q.limit);
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

// ---- Webhook subscriptions and the outbox ----

namespace {
core::error injected() { return core::error::unavailable_error("memory store: injected failure"); }
}  // namespace

core::result<void> memory_store::create_subscription(const core::subscription& s) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    if (!subscriptions_.emplace(s.id, s).second) {
        return core::fail(
            core::error::make(core::errc::conflict, "a subscription with id " + s.id + " exists"));
    }
    return {};
}

core::result<std::vector<core::subscription>> memory_store::list_subscriptions() {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    std::vector<core::subscription> out;
    for (const auto& [id, s] : subscriptions_) out.push_back(s);
    return out;
}

core::result<std::optional<core::subscription>> memory_store::find_subscription(std::string_view id) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    const auto it = subscriptions_.find(std::string(id));
    if (it == subscriptions_.end()) return std::optional<core::subscription>();
    return it->second;
}

core::result<void> memory_store::delete_subscription(std::string_view id) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    if (subscriptions_.erase(std::string(id)) == 0) return core::fail(core::subscription_not_found(id));
    std::erase_if(outbox_, [&](const auto& kv) { return kv.second.subscription_id == id; });
    return {};
}

core::result<core::subscription> memory_store::set_enabled(std::string_view id, bool enabled,
                                                           core::millis now, std::string_view reason) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    const auto it = subscriptions_.find(std::string(id));
    if (it == subscriptions_.end()) return core::fail(core::subscription_not_found(id));
    core::subscription& s = it->second;
    if (s.enabled != enabled) {
        s.enabled = enabled;
        s.disabled_at = enabled ? std::nullopt : std::optional<core::millis>(now);
        s.disabled_reason = enabled ? std::string() : std::string(reason);
        s.consecutive_failures = 0;
        s.paused_until = 0;
    }
    return s;
}

core::result<std::vector<core::delivery>> memory_store::due_deliveries(
    core::millis now, std::size_t limit, const std::vector<std::string>& in_flight) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    std::vector<core::delivery> out;
    for (const auto& [id, d] : outbox_) {
        if (d.state != core::delivery_state::pending || d.next_attempt_at > now) continue;
        const auto s = subscriptions_.find(d.subscription_id);
        if (s == subscriptions_.end() || !s->second.enabled || s->second.paused_until > now) continue;
        if (std::find(in_flight.begin(), in_flight.end(), id) != in_flight.end()) continue;
        out.push_back(d);
    }
    core::order_due(out);
    if (out.size() > limit) out.resize(limit);
    return out;
}

core::result<core::attempt_effect> memory_store::record_attempt(const core::delivery& d,
                                                                const core::attempt_report& r,
                                                                const core::retry_policy& policy,
                                                                double jitter01) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    const auto s = subscriptions_.find(d.subscription_id);
    if (s == subscriptions_.end()) return core::fail(core::subscription_not_found(d.subscription_id));
    core::subscription& sub = s->second;
    const core::attempt_effect e = core::apply_attempt(sub, d, r, policy, jitter01);
    if (auto it = outbox_.find(d.id);
        it != outbox_.end() && it->second.state == core::delivery_state::pending) {
        core::delivery& stored = it->second;
        stored.state = e.state;
        stored.attempts += 1;
        stored.next_attempt_at = e.next_attempt_at;
        stored.last_attempt_at = r.at;
        stored.last_http_status = r.http_status;
        stored.last_error = r.error;
    }
    sub.consecutive_failures = e.consecutive_failures;
    sub.paused_until = e.paused_until;
    if (e.state == core::delivery_state::delivered) sub.last_success_at = r.at;
    if (e.disable && sub.enabled) {
        sub.enabled = false;
        sub.disabled_at = r.at;
        sub.disabled_reason = e.disabled_reason;
    }
    return e;
}

core::result<core::delivery_page> memory_store::deliveries_of(std::string_view subscription_id,
                                                              std::size_t limit,
                                                              std::optional<std::string_view> cursor) {
    if (should_fail()) return core::fail(injected());
    if (cursor && !core::is_delivery_cursor(*cursor)) return core::fail(core::bad_delivery_cursor());
    const std::lock_guard lock(mutex_);
    if (!subscriptions_.contains(std::string(subscription_id)))
        return core::fail(core::subscription_not_found(subscription_id));
    core::delivery_page page;
    auto it = cursor ? outbox_.lower_bound(std::string(*cursor)) : outbox_.end();
    while (it != outbox_.begin()) {
        --it;
        if (it->second.subscription_id != subscription_id) continue;
        if (page.items.size() == limit) {
            page.next_cursor = page.items.back().id;
            break;
        }
        page.items.push_back(it->second);
    }
    return page;
}

core::result<core::outbox_counts> memory_store::counts() {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    core::outbox_counts c;
    for (const auto& [id, d] : outbox_) c.pending += d.state == core::delivery_state::pending ? 1 : 0;
    for (const auto& [id, s] : subscriptions_)
        (s.enabled ? c.enabled_subscriptions : c.disabled_subscriptions) += 1;
    return c;
}

core::result<std::size_t> memory_store::purge_deliveries(core::millis before) {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    return std::erase_if(outbox_, [before](const auto& kv) {
        const core::delivery& d = kv.second;
        return d.state != core::delivery_state::pending && d.last_attempt_at.value_or(0) < before;
    });
}

core::result<std::optional<core::millis>> memory_store::next_due() {
    if (should_fail()) return core::fail(injected());
    const std::lock_guard lock(mutex_);
    std::optional<core::millis> earliest;
    for (const auto& [id, d] : outbox_) {
        if (d.state != core::delivery_state::pending) continue;
        const auto s = subscriptions_.find(d.subscription_id);
        if (s == subscriptions_.end() || !s->second.enabled) continue;
        const core::millis at = std::max(d.next_attempt_at, s->second.paused_until);
        if (!earliest || at < *earliest) earliest = at;
    }
    return earliest;
}

void memory_store::on_new_deliveries(std::function<void()> wake) {
    const std::lock_guard lock(wake_mutex_);
    wake_ = std::move(wake);
}

}  // namespace dinex::store

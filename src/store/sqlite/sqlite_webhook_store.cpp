// The webhook side of sqlite_store (core::webhook_store): subscriptions, the outbox and its
// deliveries. Writes go through the writer's group commit, reads through the reader pool.
#include <algorithm>
#include <tuple>

#include "store/sqlite/rows.hpp"
#include "store/sqlite/store_impl.hpp"

namespace dinex::store {

using sqlite_detail::read_connection;
using sqlite_detail::statement;
using sqlite_detail::statement_cache;
using sqlite_detail::write_connection;

namespace {

std::optional<core::subscription> subscription_by_id(statement_cache& prepared, std::string_view id) {
    statement::run r(prepared.get(sqlite_detail::select_subscription_by_id()));
    r.bind(1, id);
    if (!r.step()) return std::nullopt;
    return sqlite_detail::read_subscription(r);
}

}  // namespace

core::result<void> sqlite_store::create_subscription(const core::subscription& sub) {
    return impl_->write<void>([sub](write_connection& c) -> core::result<void> {
        if (subscription_by_id(c.prepared, sub.id)) {
            return core::fail(
                core::error::make(core::errc::conflict, "a subscription with id " + sub.id + " exists"));
        }
        statement& st = c.prepared.get(
            "INSERT INTO subscriptions (id, url, statuses, tracking_id, secret, created_at, enabled, "
            "disabled_at, disabled_reason, consecutive_failures, paused_until, last_success_at) VALUES "
            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        // Bound values are not copied (SQLITE_STATIC): they must outlive exec().
        const std::string statuses = sqlite_detail::join_statuses(sub.statuses);
        statement::run r(st);
        r.bind(1, sub.id).bind(2, sub.url).bind(3, statuses).bind(4, sub.tracking_id);
        r.bind(5, sub.secret).bind(6, sub.created_at).bind(7, std::int64_t{sub.enabled ? 1 : 0});
        if (sub.disabled_at)
            r.bind(8, *sub.disabled_at);
        else
            r.bind_null(8);
        r.bind(9, sub.disabled_reason)
            .bind(10, std::int64_t{sub.consecutive_failures})
            .bind(11, sub.paused_until);
        if (sub.last_success_at)
            r.bind(12, *sub.last_success_at);
        else
            r.bind_null(12);
        r.exec();
        c.subscriptions_changed = true;
        return {};
    });
}

core::result<std::vector<core::subscription>> sqlite_store::list_subscriptions() {
    return impl_->readers.read([](read_connection& c) -> core::result<std::vector<core::subscription>> {
        statement& st = c.prepared.get(sqlite_detail::select_subscriptions_in_order());
        std::vector<core::subscription> out;
        statement::run r(st);
        while (r.step()) out.push_back(sqlite_detail::read_subscription(r));
        return out;
    });
}

core::result<std::optional<core::subscription>> sqlite_store::find_subscription(std::string_view id) {
    return impl_->readers.read([id](read_connection& c) -> core::result<std::optional<core::subscription>> {
        return subscription_by_id(c.prepared, id);
    });
}

core::result<void> sqlite_store::delete_subscription(std::string_view id_view) {
    return impl_->write<void>([id = std::string(id_view)](write_connection& c) -> core::result<void> {
        if (!subscription_by_id(c.prepared, id)) return core::fail(core::subscription_not_found(id));
        {
            statement& st = c.prepared.get("DELETE FROM outbox WHERE subscription_id = ?1");
            statement::run(st).bind(1, id).exec();
        }
        statement& st = c.prepared.get("DELETE FROM subscriptions WHERE id = ?1");
        statement::run(st).bind(1, id).exec();
        c.subscriptions_changed = true;
        return {};
    });
}

core::result<core::subscription> sqlite_store::set_enabled(std::string_view id_view, bool enabled,
                                                           core::millis now, std::string_view reason_view) {
    return impl_->write<core::subscription>(
        [id = std::string(id_view), enabled, now,
         reason = std::string(reason_view)](write_connection& c) -> core::result<core::subscription> {
            auto sub = subscription_by_id(c.prepared, id);
            if (!sub) return core::fail(core::subscription_not_found(id));
            if (sub->enabled == enabled) return std::move(*sub);
            statement& st = c.prepared.get(
                "UPDATE subscriptions SET enabled = ?2, disabled_at = ?3, disabled_reason = ?4, "
                "consecutive_failures = 0, paused_until = 0 WHERE id = ?1");
            const std::string stored_reason = enabled ? std::string() : reason;
            statement::run r(st);
            r.bind(1, id).bind(2, std::int64_t{enabled ? 1 : 0});
            if (enabled)
                r.bind_null(3);
            else
                r.bind(3, now);
            r.bind(4, stored_reason).exec();
            c.subscriptions_changed = true;
            return std::move(*subscription_by_id(c.prepared, id));
        });
}

core::result<std::vector<core::delivery>> sqlite_store::due_deliveries(
    core::millis now, std::size_t limit, const std::vector<std::string>& in_flight) {
    return impl_->readers.read([&](read_connection& c) -> core::result<std::vector<core::delivery>> {
        std::vector<std::string> ready;
        {
            statement& st = c.prepared.get(
                "SELECT id FROM subscriptions WHERE enabled = 1 AND paused_until <= ?1 ORDER BY id");
            statement::run r(st);
            r.bind(1, now);
            while (r.step()) ready.push_back(r.text(0));
        }
        statement& st = c.prepared.get(sqlite_detail::select_due_deliveries());
        std::vector<core::delivery> out;
        for (const auto& sub : ready) {
            statement::run r(st);
            r.bind(1, sub).bind(2, now).bind(3, static_cast<std::int64_t>(limit + in_flight.size()));
            while (r.step() && out.size() < limit) {
                auto d = sqlite_detail::read_delivery(r);
                if (std::find(in_flight.begin(), in_flight.end(), d.id) == in_flight.end())
                    out.push_back(std::move(d));
            }
            if (out.size() >= limit) break;
        }
        core::order_due(out);
        return out;
    });
}

core::result<core::attempt_effect> sqlite_store::record_attempt(const core::delivery& d,
                                                                const core::attempt_report& report,
                                                                const core::retry_policy& policy,
                                                                double jitter01) {
    return impl_->write<core::attempt_effect>([d, report, policy, jitter01](
                                                  write_connection& c) -> core::result<core::attempt_effect> {
        auto sub = subscription_by_id(c.prepared, d.subscription_id);
        if (!sub) return core::fail(core::subscription_not_found(d.subscription_id));
        const core::attempt_effect e = core::apply_attempt(*sub, d, report, policy, jitter01);
        {
            statement& st = c.prepared.get(
                "UPDATE outbox SET state = ?2, attempts = attempts + 1, next_attempt_at = ?3, "
                "last_attempt_at = ?4, last_http_status = ?5, last_error = ?6 WHERE id = ?1 AND state = "
                "'pending'");
            statement::run r(st);
            r.bind(1, d.id).bind(2, core::to_string(e.state)).bind(3, e.next_attempt_at).bind(4, report.at);
            if (report.http_status)
                r.bind(5, std::int64_t{*report.http_status});
            else
                r.bind_null(5);
            r.bind(6, report.error).exec();
        }
        statement& st = c.prepared.get(
            "UPDATE subscriptions SET consecutive_failures = ?2, paused_until = ?3, "
            "last_success_at = CASE WHEN ?4 THEN ?5 ELSE last_success_at END, "
            "enabled = CASE WHEN ?6 THEN 0 ELSE enabled END, "
            "disabled_at = CASE WHEN ?6 AND enabled = 1 THEN ?5 ELSE disabled_at END, "
            "disabled_reason = CASE WHEN ?6 AND enabled = 1 THEN ?7 ELSE disabled_reason END "
            "WHERE id = ?1");
        const bool delivered = e.state == core::delivery_state::delivered;
        statement::run(st)
            .bind(1, d.subscription_id)
            .bind(2, std::int64_t{e.consecutive_failures})
            .bind(3, e.paused_until)
            .bind(4, std::int64_t{delivered ? 1 : 0})
            .bind(5, report.at)
            .bind(6, std::int64_t{e.disable ? 1 : 0})
            .bind(7, e.disabled_reason)
            .exec();
        if (e.disable) c.subscriptions_changed = true;
        return e;
    });
}

core::result<core::delivery_page> sqlite_store::deliveries_of(std::string_view subscription_id,
                                                              std::size_t limit,
                                                              std::optional<std::string_view> cursor) {
    if (cursor && !core::is_delivery_cursor(*cursor)) return core::fail(core::bad_delivery_cursor());
    return impl_->readers.read([&](read_connection& c) -> core::result<core::delivery_page> {
        if (!subscription_by_id(c.prepared, subscription_id))
            return core::fail(core::subscription_not_found(subscription_id));
        statement& st = c.prepared.get(sqlite_detail::select_delivery_page());
        core::delivery_page page;
        statement::run r(st);
        // "~" sorts after every ULID character: no cursor starts at the newest.
        r.bind(1, subscription_id).bind(2, cursor ? *cursor : std::string_view("~"));
        r.bind(3, static_cast<std::int64_t>(limit + 1));
        while (r.step()) page.items.push_back(sqlite_detail::read_delivery(r));
        if (page.items.size() > limit) {
            page.items.pop_back();
            page.next_cursor = page.items.back().id;
        }
        return page;
    });
}

core::result<core::outbox_counts> sqlite_store::counts() {
    return impl_->readers.read([](read_connection& c) -> core::result<core::outbox_counts> {
        core::outbox_counts out;
        statement& pending = c.prepared.get("SELECT count(*) FROM outbox WHERE state = 'pending'");
        if (statement::run r(pending); r.step()) out.pending = static_cast<std::uint64_t>(r.int64(0));
        statement& subs = c.prepared.get("SELECT coalesce(sum(enabled), 0), count(*) FROM subscriptions");
        if (statement::run r(subs); r.step()) {
            out.enabled_subscriptions = static_cast<std::uint64_t>(r.int64(0));
            out.disabled_subscriptions = static_cast<std::uint64_t>(r.int64(1)) - out.enabled_subscriptions;
        }
        return out;
    });
}

core::result<std::size_t> sqlite_store::purge_deliveries(core::millis before) {
    std::size_t total = 0;
    const std::int64_t chunk = static_cast<std::int64_t>(impl_->options.purge_chunk);
    for (;;) {
        auto removed =
            impl_->write<std::size_t>([before, chunk](write_connection& c) -> core::result<std::size_t> {
                statement& st = c.prepared.get(
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state <> 'pending' AND "
                    "last_attempt_at < ?1 LIMIT ?2)");
                statement::run(st).bind(1, before).bind(2, chunk).exec();
                return static_cast<std::size_t>(sqlite3_changes(c.handle.db));
            });
        if (!removed) return removed;
        total += *removed;
        if (static_cast<std::int64_t>(*removed) < chunk) return total;
    }
}

core::result<std::optional<core::millis>> sqlite_store::next_due() {
    return impl_->readers.read([](read_connection& c) -> core::result<std::optional<core::millis>> {
        statement& st = c.prepared.get(
            "SELECT min(max(s.paused_until, (SELECT min(o.next_attempt_at) FROM outbox o WHERE "
            "o.subscription_id = s.id AND o.state = 'pending'))) FROM subscriptions s WHERE s.enabled = 1 "
            "AND EXISTS (SELECT 1 FROM outbox o WHERE o.subscription_id = s.id AND o.state = 'pending')");
        statement::run r(st);
        if (!r.step()) return std::optional<core::millis>();
        return r.opt_int64(0);
    });
}

void sqlite_store::on_new_deliveries(std::function<void()> wake) {
    // A read-only store commits nothing, so nothing ever wakes the dispatcher.
    if (impl_->writer) impl_->writer->on_new_deliveries(std::move(wake));
}

}  // namespace dinex::store

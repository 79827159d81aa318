#include "store/sqlite/rows.hpp"

#include "core/text.hpp"

namespace dinex::store::sqlite_detail {
namespace {

// A position is stored as two nullable columns, `col` and `col + 1`; both or neither are set.
std::optional<core::position> position_at(const statement::run& r, int col) {
    const auto lat = r.opt_double(col);
    const auto lon = r.opt_double(col + 1);
    if (lat && lon) return core::position{*lat, *lon};
    return std::nullopt;
}

}  // namespace

core::package_state read_state(const statement::run& r, std::string_view tracking_id) {
    core::package_state s;
    s.tracking_id = std::string(tracking_id);
    s.state = core::parse_status(r.text(0)).value_or(core::status::exception);
    s.location = r.text(1);
    s.notes = r.opt_text(2);
    s.coordinates = position_at(r, 3);
    s.timestamp = r.int64(5);
    s.event_id = r.text(6);
    s.created_at = r.int64(7);
    s.updated_at = r.int64(8);
    s.expires_at = r.int64(9);
    s.event_count = static_cast<std::uint64_t>(r.int64(10));
    s.estimated_delivery = r.opt_int64(11);
    return s;
}

core::event read_event(const statement::run& r, std::string_view tracking_id) {
    core::event e;
    e.tracking_id = std::string(tracking_id);
    e.event_id = r.text(0);
    e.state = core::parse_status(r.text(1)).value_or(core::status::exception);
    e.location = r.text(2);
    e.timestamp = r.int64(3);
    e.received_at = r.int64(4);
    e.description = r.opt_text(5);
    e.notes = r.opt_text(6);
    e.coordinates = position_at(r, 7);
    e.estimated_delivery = r.opt_int64(9);
    e.sequence = static_cast<std::uint64_t>(r.int64(10));
    return e;
}

std::optional<double> lat_of(const std::optional<core::position>& p) {
    return p ? std::optional<double>(p->latitude) : std::nullopt;
}
std::optional<double> lon_of(const std::optional<core::position>& p) {
    return p ? std::optional<double>(p->longitude) : std::nullopt;
}

constexpr const char* subscription_columns =
    "id, url, statuses, tracking_id, secret, created_at, enabled, disabled_at, disabled_reason, "
    "consecutive_failures, paused_until, last_success_at";
constexpr const char* delivery_columns =
    "id, subscription_id, tracking_id, status, previous_status, location, timestamp, event_id, state, "
    "attempts, created_at, next_attempt_at, last_attempt_at, last_http_status, last_error";
// The webhook queries, spelled once (statement_cache keys on the text). Built on first use, not
// before main: an allocation failure there could not be caught (cert-err58-cpp).
const std::string& select_subscriptions() {
    static const std::string sql = std::string("SELECT ") + subscription_columns + " FROM subscriptions";
    return sql;
}
const std::string& select_subscription_by_id() {
    static const std::string sql = select_subscriptions() + " WHERE id = ?1";
    return sql;
}
const std::string& select_subscriptions_in_order() {
    static const std::string sql = select_subscriptions() + " ORDER BY id";
    return sql;
}
const std::string& select_due_deliveries() {
    static const std::string sql = std::string("SELECT ") + delivery_columns +
                                   " FROM outbox WHERE subscription_id = ?1 AND state = 'pending' AND "
                                   "next_attempt_at <= ?2 ORDER BY next_attempt_at, id LIMIT ?3";
    return sql;
}
const std::string& select_delivery_page() {
    static const std::string sql =
        std::string("SELECT ") + delivery_columns +
        " FROM outbox WHERE subscription_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
    return sql;
}

// Statuses of a subscription as stored: "DELIVERED,EXCEPTION", empty for all.
std::string join_statuses(const std::vector<core::status>& statuses) {
    std::string out;
    for (const auto st : statuses) {
        if (!out.empty()) out.push_back(',');
        out.append(core::to_string(st));
    }
    return out;
}

core::subscription read_subscription(const statement::run& r) {
    core::subscription s;
    s.id = r.text(0);
    s.url = r.text(1);
    const std::string statuses = r.text(2);
    for (const auto name : core::split_list(statuses)) {
        if (const auto st = core::parse_status(name)) s.statuses.push_back(*st);
    }
    s.tracking_id = r.opt_text(3);
    s.secret = r.text(4);
    s.created_at = r.int64(5);
    s.enabled = r.int64(6) != 0;
    s.disabled_at = r.opt_int64(7);
    s.disabled_reason = r.text(8);
    s.consecutive_failures = static_cast<std::uint32_t>(r.int64(9));
    s.paused_until = r.int64(10);
    s.last_success_at = r.opt_int64(11);
    return s;
}

core::delivery read_delivery(const statement::run& r) {
    core::delivery d;
    d.id = r.text(0);
    d.subscription_id = r.text(1);
    d.message.tracking_id = r.text(2);
    d.message.state = core::parse_status(r.text(3)).value_or(core::status::exception);
    if (const auto prev = r.opt_text(4)) d.message.previous = core::parse_status(*prev);
    d.message.location = r.text(5);
    d.message.timestamp = r.int64(6);
    d.message.event_id = r.text(7);
    d.state = core::parse_delivery_state(r.text(8)).value_or(core::delivery_state::pending);
    d.attempts = static_cast<std::uint32_t>(r.int64(9));
    d.created_at = r.int64(10);
    d.next_attempt_at = r.int64(11);
    d.last_attempt_at = r.opt_int64(12);
    if (const auto st = r.opt_int64(13)) d.last_http_status = static_cast<int>(*st);
    d.last_error = r.text(14);
    return d;
}

}  // namespace dinex::store::sqlite_detail

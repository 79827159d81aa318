#pragma once
// Private to src/store/sqlite: the SQL texts of the tracking and webhook queries, and the readers
// that turn their rows into core values (column order as in the texts).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/webhooks.hpp"
#include "store/sqlite/db.hpp"

namespace dinex::store::sqlite_detail {

#define DINEX_STATE_COLUMNS                                                                       \
    "status, location, notes, latitude, longitude, timestamp, event_id, created_at, updated_at, " \
    "expires_at, event_count, estimated_delivery"
#define DINEX_EVENT_COLUMNS                                                                         \
    "event_id, status, location, timestamp, received_at, description, notes, latitude, longitude, " \
    "estimated_delivery, seq"
inline constexpr const char* select_state_sql =
    "SELECT " DINEX_STATE_COLUMNS " FROM packages WHERE tracking_id = ?1";
inline constexpr const char* select_events_sql =
    "SELECT " DINEX_EVENT_COLUMNS
    " FROM events WHERE tracking_id = ?1 ORDER BY timestamp DESC, seq DESC LIMIT ?2";
inline constexpr const char* select_event_by_id_sql =
    "SELECT " DINEX_EVENT_COLUMNS " FROM events WHERE tracking_id = ?1 AND event_id = ?2";
// The listing, one status: rows strictly below the bound (updated_at, tracking_id), newest change
// first; column 12 is tracking_id. Read from the index in its order: no scan, no sort (tested
// with EXPLAIN QUERY PLAN).
inline constexpr const char* list_by_status_sql = "SELECT " DINEX_STATE_COLUMNS
                                                  ", tracking_id FROM packages WHERE status = ?1 AND "
                                                  "(updated_at, tracking_id) < (?2, ?3) AND expires_at >= ?4 "
                                                  "ORDER BY updated_at DESC, tracking_id DESC LIMIT ?5";
inline constexpr const char* export_ids_sql =
    "SELECT " DINEX_STATE_COLUMNS
    ", tracking_id FROM packages WHERE tracking_id > ?1 AND expires_at >= ?2 "
    "ORDER BY tracking_id LIMIT ?3";
inline constexpr const char* export_events_sql =
    "SELECT " DINEX_EVENT_COLUMNS " FROM events WHERE tracking_id = ?1 ORDER BY timestamp DESC, seq DESC";
#undef DINEX_STATE_COLUMNS
#undef DINEX_EVENT_COLUMNS

core::package_state read_state(const statement::run& r, std::string_view tracking_id);
core::event read_event(const statement::run& r, std::string_view tracking_id);

std::optional<double> lat_of(const std::optional<core::position>& p);
std::optional<double> lon_of(const std::optional<core::position>& p);

// The webhook queries, spelled once (statement_cache keys on the text).
const std::string& select_subscriptions();
const std::string& select_subscription_by_id();
const std::string& select_subscriptions_in_order();
const std::string& select_due_deliveries();
const std::string& select_delivery_page();

// Statuses of a subscription as stored: "DELIVERED,EXCEPTION", empty for all.
std::string join_statuses(const std::vector<core::status>& statuses);

core::subscription read_subscription(const statement::run& r);
core::delivery read_delivery(const statement::run& r);

}  // namespace dinex::store::sqlite_detail

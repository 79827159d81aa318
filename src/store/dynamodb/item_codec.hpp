#pragma once
// How packages and events are written as DynamoDB items (attribute-value JSON), and read back.
// Pure functions: unit-tested without a server.
#include <boost/json/object.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "core/model.hpp"

namespace dinex::store::dynamodb_items {

inline constexpr std::string_view state_sk = "STATE";
inline constexpr std::string_view event_prefix = "EVENT#";
inline constexpr std::string_view marker_prefix = "DEDUP#";

// "EVENT#<timestamp ms, 15 digits>#<sequence, 12 digits>": byte order = (timestamp, arrival)
// order (core/lifecycle.hpp), for timestamps in [0, 10^15), so a Query reads the history in order.
std::string event_sort_key(core::millis timestamp, std::uint64_t sequence);
std::string marker_sort_key(std::string_view event_id);

// TTL: epoch seconds, rounded up so the item never disappears before its millisecond expiry.
std::int64_t ttl_seconds(core::millis expires_at) noexcept;

// Number attributes: {"N": "..."}; doubles in the shortest form that reads back exactly.
boost::json::object number(std::int64_t v);
boost::json::object number(double v);
boost::json::object string(std::string_view v);

// The state item. `version` is the optimistic-concurrency counter.
boost::json::object encode_state(const core::package_state& s, std::int64_t version);
struct decoded_state {
    core::package_state state;
    std::int64_t version = 0;
};
std::expected<decoded_state, std::string> decode_state(const boost::json::object& item);

// An event item, and the idempotency marker for it (the same attributes plus `event_sk`).
// Both carry expires_at (seconds, TTL) and expires_at_ms.
boost::json::object encode_event(const core::event& e, core::millis expires_at);
boost::json::object encode_marker(const core::event& e, core::millis expires_at);
std::expected<core::event, std::string> decode_event(const boost::json::object& item);

// expires_at_ms of any of our items (0 when absent).
core::millis expires_at_ms(const boost::json::object& item);

// The items of a Query or Scan answer (its "Items" that are objects), in answer order.
std::vector<const boost::json::object*> page_items(const boost::json::object& answer);

}  // namespace dinex::store::dynamodb_items

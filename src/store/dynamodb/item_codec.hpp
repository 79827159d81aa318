#pragma once
// How packages and events are written as DynamoDB items (attribute-value JSON), and read back.
// Pure functions: unit-tested without a server.
#include <boost/json/object.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace dinex::store::dynamodb_items {

inline constexpr std::string_view state_sk = "STATE";
inline constexpr std::string_view event_prefix = "EVENT#";
inline constexpr std::string_view marker_prefix = "DEDUP#";

// "EVENT#<timestamp ms, 15 digits>#<sequence, 12 digits>": byte order = (timestamp, arrival)
// order (core/lifecycle.hpp), for timestamps in [0, 10^15), so a Query reads the history in order.
std::string event_sort_key(core::millis timestamp, std::uint64_t sequence);
std::string marker_sort_key(std::string_view event_id);

// The primary key {tracking_id, sk} of an item, for GetItem and friends.
boost::json::object key(std::string_view tracking_id, std::string_view sk);

// TTL: epoch seconds, rounded up so the item never disappears before its millisecond expiry.
std::int64_t ttl_seconds(core::millis expires_at) noexcept;

// Number attributes: {"N": "..."}; doubles in the shortest form that reads back exactly.
boost::json::object number(std::int64_t v);
boost::json::object number(double v);
boost::json::object string(std::string_view v);

// A short digest of an event id (the first bytes of its SHA-256): the state item keeps one per event
// of the package's current life, so a write knows from the state alone whether an event id may
// have been stored before. A digest match is confirmed against the stored event itself.
inline constexpr std::size_t event_id_digest_size = 6;
std::string event_id_digest(std::string_view event_id);
bool has_digest(std::string_view digests, std::string_view digest) noexcept;

// What the state item carries besides the state (docs/DYNAMODB.md, "The write algorithm").
struct state_extras {
    // The digests of this life's event ids, concatenated (attribute `event_ids`, binary). nullopt:
    // the item has no such attribute (written before it existed: its events have DEDUP# markers).
    std::optional<std::string> event_id_digests;
    // This life has events written before `event_ids` existed: their markers must be asked too.
    bool legacy_markers = false;
    // The event items of the write that produced this state (attribute `pending`), without their
    // partition key: the state is written first, then these items, so until the next write of the
    // package has made sure they exist, readers take them from here.
    std::vector<boost::json::object> pending;
};

// The state item. `version` is the optimistic-concurrency counter.
boost::json::object encode_state(const core::package_state& s, std::int64_t version,
                                 const state_extras& extras = {});
struct decoded_state {
    core::package_state state;
    std::int64_t version = 0;
    state_extras extras;
};
std::expected<decoded_state, std::string> decode_state(const boost::json::object& item);

// An event item, and the idempotency marker for it (the same attributes plus `event_sk`).
// Both carry expires_at (seconds, TTL) and expires_at_ms.
boost::json::object encode_event(const core::event& e, core::millis expires_at);
boost::json::object encode_marker(const core::event& e, core::millis expires_at);
std::expected<core::event, std::string> decode_event(const boost::json::object& item);

// An event item for `pending` (without the partition key), and back to a whole item.
boost::json::object pending_form(boost::json::object event_item);
boost::json::object event_item_of(const boost::json::object& pending, std::string_view tracking_id);

// A string attribute of any of our items ("" when absent or not a string), and the sort key.
std::string_view string_attribute(const boost::json::object& item, std::string_view name) noexcept;
inline std::string_view sort_key_of(const boost::json::object& item) noexcept {
    return string_attribute(item, "sk");
}

// expires_at_ms of any of our items (0 when absent).
core::millis expires_at_ms(const boost::json::object& item);

// The items of a Query or Scan answer (its "Items" that are objects), in answer order.
std::vector<const boost::json::object*> page_items(const boost::json::object& answer);

}  // namespace dinex::store::dynamodb_items

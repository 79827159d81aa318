#pragma once
// The tracking domain: statuses, events and package state. Plain values, no I/O.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dinex::core {

// One canonical set that maps onto AfterShip, EasyPost, Shippo, 17TRACK and Karrio.
enum class status : std::uint8_t {
    info_received,
    picked_up,
    in_transit,
    out_for_delivery,
    available_for_pickup,
    delivery_failed,
    delivered,
    exception,
    return_to_sender,
    cancelled,
};

inline constexpr std::array<status, 10> all_statuses = {
    status::info_received,        status::picked_up,       status::in_transit, status::out_for_delivery,
    status::available_for_pickup, status::delivery_failed, status::delivered,  status::exception,
    status::return_to_sender,     status::cancelled};

std::string_view to_string(status s) noexcept;
std::optional<status> parse_status(std::string_view text) noexcept;
// What clients may send: surrounding blanks and any letter case ("  in_transit").
std::optional<status> parse_status_input(std::string_view text);
// "INFO_RECEIVED, PICKED_UP, …" for error messages.
std::string status_list();

constexpr bool is_terminal(status s) noexcept { return s == status::delivered || s == status::cancelled; }

using millis = std::int64_t;  // milliseconds since the Unix epoch, UTC

struct position {
    double latitude = 0;
    double longitude = 0;
    friend bool operator==(const position&, const position&) = default;
};

// One tracking event as stored. `event_id` is the client's idempotency key or a generated one.
struct event {
    std::string tracking_id;
    std::string event_id;
    status state = status::info_received;
    std::string location;
    millis timestamp = 0;    // when it happened (client clock, defaults to received_at)
    millis received_at = 0;  // when the service accepted it
    std::optional<std::string> description;
    std::optional<std::string> notes;
    std::optional<position> coordinates;
    std::optional<millis> estimated_delivery;  // the carrier's promise, as this event stated it
    // Arrival order within the package (1 for its first event), set by the store as it accepts
    // the event: it breaks ties between events with the same timestamp, so the later arrival wins.
    std::uint64_t sequence = 0;
    friend bool operator==(const event&, const event&) = default;
};

// The current state of a package: the event with the latest timestamp wins.
struct package_state {
    std::string tracking_id;
    status state = status::info_received;
    std::string location;
    std::optional<std::string> notes;
    std::optional<position> coordinates;
    // The latest estimate: set by the newest event that carries one, kept by newer events that carry
    // none, cleared when the package reaches DELIVERED or CANCELLED (docs/ARCHITECTURE.md).
    std::optional<millis> estimated_delivery;
    millis timestamp = 0;   // timestamp of the event that set this state
    std::string event_id;   // that event
    millis created_at = 0;  // first event received
    millis updated_at = 0;  // last change of the record (any accepted event)
    millis expires_at = 0;  // updated_at + retention
    std::uint64_t event_count = 0;
    friend bool operator==(const package_state&, const package_state&) = default;
};

struct package {
    package_state state;
    std::vector<event> events;  // newest first (timestamp, then sequence, descending)
};

// Position in the operator listing, which runs newest change first: (updated_at, tracking_id)
// descending. A page holds the packages strictly below its cursor.
struct package_cursor {
    millis updated_at = 0;
    std::string tracking_id;
    friend bool operator==(const package_cursor&, const package_cursor&) = default;
};

// The "needs attention" listing: packages in `statuses` (every status when empty) whose
// updated_at is before `stale_before` (when set), most recently updated first. Expired packages
// (expires_at < now) are never listed.
struct package_query {
    std::vector<status> statuses;
    std::optional<millis> stale_before;
    millis now = 0;
    std::size_t limit = 50;
    std::optional<package_cursor> after;
};

struct package_page {
    std::vector<package_state> packages;
    std::optional<package_cursor> next;  // set when more packages may follow
};

// One page of a full export: whole packages with their history, in an order only the store
// knows; `next` is an opaque position for the following page (empty: this was the last one).
struct export_page {
    std::vector<package> packages;
    std::string next;
};

}  // namespace dinex::core

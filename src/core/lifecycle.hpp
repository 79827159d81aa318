#pragma once
// The rules that decide what one accepted event does to a package. Stores call `decide` inside
// their transaction (or conditional write) so the rule and the write are one atomic step.
#include <optional>

#include "core/error.hpp"
#include "core/model.hpp"

namespace dinex::core {

struct lifecycle_policy {
    millis retention = 30LL * 24 * 60 * 60 * 1000;  // records expire this long after last change
};

// A validated event ready to be applied.
struct submission {
    event incoming;                // received_at is the acceptance time ("now")
    bool timestamp_given = false;  // the client set timestamp (it then takes part in replay checks)
    bool event_id_given = false;   // the client set event_id (otherwise it was generated)
};

enum class outcome_kind {
    created,       // stored and became the current state
    late_arrival,  // stored in the history; an newer event keeps the current state
    replay,        // the same event_id was already stored: nothing written
};

struct append_outcome {
    outcome_kind kind = outcome_kind::created;
    event stored;                           // the event as stored (the original on a replay)
    package_state state;                    // the state after the append
    std::optional<package_state> previous;  // the state before (nullopt for a new package)
};

// Bounds of an event's estimated_delivery, relative to the event's own timestamp so that a
// re-import of exported events passes the same check years later.
inline constexpr millis eta_min_before_event = 24LL * 60 * 60 * 1000;       // a day
inline constexpr millis eta_max_after_event = 365LL * 24 * 60 * 60 * 1000;  // a year

// Events are ordered by timestamp, then by arrival (event::sequence): of two events at the same
// millisecond the one that arrived later is the newer, whatever their ids. Items of one request
// or one file arrive in the order given, so a later item with the same timestamp, or with none
// (all of a request's items default to one receive time), is newer than an earlier one.

// current: the package state as stored (nullopt: unknown package).
// same_id: the stored event of this package with the submission's event_id, if any.
result<append_outcome> decide(const std::optional<package_state>& current,
                              const std::optional<event>& same_id, const submission& sub,
                              const lifecycle_policy& policy);

}  // namespace dinex::core

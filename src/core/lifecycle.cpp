#include "core/lifecycle.hpp"

#include <algorithm>
#include <string>

namespace dinex::core {
namespace {

// A replay must describe the same event; reusing a key for different content is a client bug we
// refuse rather than silently answer with data the client did not send.
bool same_content(const event& stored, const submission& sub) {
    const event& in = sub.incoming;
    return stored.state == in.state && stored.location == in.location &&
           stored.description == in.description && stored.notes == in.notes &&
           stored.coordinates == in.coordinates && stored.estimated_delivery == in.estimated_delivery &&
           (!sub.timestamp_given || stored.timestamp == in.timestamp);
}

}  // namespace

result<append_outcome> decide(const std::optional<package_state>& current,
                              const std::optional<event>& same_id, const submission& sub,
                              const lifecycle_policy& policy) {
    const event& in = sub.incoming;
    if (same_id) {
        if (!current) return fail(error::internal_error("event exists without package state"));
        if (!same_content(*same_id, sub)) {
            return fail(error::field(
                errc::conflict,
                "event_id " + in.event_id + " was already used for a different event of this package",
                "event_id", "idempotency_key_reused"));
        }
        return append_outcome{outcome_kind::replay, *same_id, *current, current};
    }

    const millis now = in.received_at;
    if (!current) {
        package_state s;
        s.tracking_id = in.tracking_id;
        s.state = in.state;
        s.location = in.location;
        s.notes = in.notes;
        s.coordinates = in.coordinates;
        s.estimated_delivery = is_terminal(in.state) ? std::nullopt : in.estimated_delivery;
        s.timestamp = in.timestamp;
        s.event_id = in.event_id;
        s.created_at = now;
        s.updated_at = now;
        s.expires_at = now + policy.retention;
        s.event_count = 1;
        event stored = in;
        stored.sequence = 1;
        return append_outcome{outcome_kind::created, std::move(stored), s, std::nullopt};
    }

    // The incoming event arrives after every stored one: at an equal timestamp it is the newer.
    const bool newer = in.timestamp >= current->timestamp;
    if (newer && is_terminal(current->state)) {
        return fail(error::field(errc::conflict,
                                 "package " + in.tracking_id + " is already " +
                                     std::string(to_string(current->state)) + "; no newer event is accepted",
                                 "status", "after_terminal_status"));
    }

    package_state s = *current;
    s.updated_at = std::max(now, current->updated_at);
    s.expires_at = s.updated_at + policy.retention;
    s.event_count = current->event_count + 1;
    if (newer) {
        s.state = in.state;
        s.location = in.location;
        s.notes = in.notes;
        s.coordinates = in.coordinates;
        // A scan that says nothing about the date does not withdraw the carrier's promise; a
        // delivery or a cancellation ends it.
        if (in.estimated_delivery) s.estimated_delivery = in.estimated_delivery;
        if (is_terminal(in.state)) s.estimated_delivery.reset();
        s.timestamp = in.timestamp;
        s.event_id = in.event_id;
    }
    event stored = in;
    stored.sequence = s.event_count;
    return append_outcome{newer ? outcome_kind::created : outcome_kind::late_arrival, std::move(stored), s,
                          current};
}

}  // namespace dinex::core

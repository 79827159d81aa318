#pragma once
// The one document every channel carries for a state change (docs/NOTIFICATIONS.md): the SNS Message and
// the body of a webhook delivery are the same bytes for the same change.
#include <string>
#include <string_view>

#include "core/ports.hpp"

namespace dinex::notify {

inline constexpr std::string_view message_type = "tracking.updated";

// {"type":"tracking.updated","tracking_id","status","previous_status" (null for a new package),
//  "location","timestamp" (RFC 3339, ms, UTC),"event_id"} — the document subscribers read.
std::string message_json(const core::notification& n);

}  // namespace dinex::notify

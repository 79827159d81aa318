#pragma once
// RFC 3339 timestamps <-> milliseconds since the epoch. Pure functions.
#include <optional>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace dinex::core {

// "2026-11-29T10:00:00.000Z": always UTC, always milliseconds, so strings sort like times.
std::string format_rfc3339(millis t);

// Accepts RFC 3339 date-times: 'T', 't' or ' ' between date and time, optional fraction of any
// length (truncated to milliseconds), 'Z', 'z' or a ±hh:mm offset. Rejects everything else,
// including impossible dates such as 2026-02-30.
std::optional<millis> parse_rfc3339(std::string_view text);

}  // namespace dinex::core

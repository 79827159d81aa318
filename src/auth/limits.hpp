#pragma once
// Rate and burst per role, and their textual form: "anonymous=10/20,writer=200/400" (requests per
// second / burst), "reader=off", or "off" for no per-client limit at all.
#include <optional>
#include <string>
#include <string_view>

#include "core/access.hpp"

namespace dinex::auth {

struct role_limits {
    core::rate_limit anonymous{10, 20};
    core::rate_limit reader{50, 100};
    core::rate_limit writer{200, 400};
    core::rate_limit admin{200, 400};

    const core::rate_limit& of(const std::optional<core::principal>& who) const noexcept;
    bool all_unlimited() const noexcept;
};

// Applies `spec` on top of `limits`; returns an error message when it is malformed.
std::optional<std::string> parse_role_limits(std::string_view spec, role_limits& limits);

}  // namespace dinex::auth

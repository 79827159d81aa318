#include "core/access.hpp"

#include <algorithm>
#include <cmath>

#include "core/enum_names.hpp"

namespace dinex::core {

std::string_view to_string(role r) noexcept { return name_in(role_names, r, "reader"); }

std::optional<role> parse_role(std::string_view text) noexcept {
    for (const auto& [r, name] : role_names) {
        if (name == text) return r;
    }
    return std::nullopt;
}

std::optional<error> authorize(const std::optional<principal>& who, action what, bool public_lookup) {
    switch (what) {
        case action::lookup:
            if (who || public_lookup) return std::nullopt;
            return error::make(errc::unauthenticated, "an API key is required to look packages up");
        case action::record:
            if (!who)
                return error::make(errc::unauthenticated, "an API key with the writer role is required");
            if (who->key_role == role::writer || who->key_role == role::admin) return std::nullopt;
            return error::make(errc::permission_denied, "this API key may not record tracking events (role " +
                                                            std::string(to_string(who->key_role)) + ")");
        case action::list_packages:
            // Listing is not a lookup by a number the caller already knows: public lookup does not
            // open it (OWASP API1), whatever the configuration.
            if (!who) return error::make(errc::unauthenticated, "an API key is required to list packages");
            return std::nullopt;
        case action::read_metrics:
            if (!who) return error::make(errc::unauthenticated, "an API key with the admin role is required");
            if (who->key_role == role::admin) return std::nullopt;
            return error::make(errc::permission_denied, "only an admin API key may read the metrics");
        case action::manage_webhooks:
            if (!who) return error::make(errc::unauthenticated, "an API key with the admin role is required");
            if (who->key_role == role::admin) return std::nullopt;
            return error::make(errc::permission_denied,
                               "only an admin API key may manage webhook subscriptions");
    }
    return error::make(errc::permission_denied, "not allowed");
}

fixed_window fixed_window::of(const rate_limit& l) noexcept {
    fixed_window w;
    w.limit = std::max<std::uint32_t>(1, l.burst);
    // The window in which `burst` requests are the average rate: burst / rate, whole seconds, >= 1.
    const double seconds = l.per_second > 0 ? std::ceil(static_cast<double>(w.limit) / l.per_second) : 1.0;
    w.window_ms = static_cast<millis>(std::clamp(seconds, 1.0, 86400.0)) * 1000;
    return w;
}

limit_decision fixed_window::admitted(std::uint64_t hits, millis now) const noexcept {
    limit_decision d;
    d.allowed = hits <= limit;
    d.limit = limit;
    d.remaining = hits >= limit ? 0 : static_cast<std::uint32_t>(limit - hits);
    d.reset_after = reset_after(now);
    d.retry_after = d.allowed ? 0 : d.reset_after;
    return d;
}

limit_decision fixed_window::refused(millis now) const noexcept {
    limit_decision d;
    d.allowed = false;
    d.limit = limit;
    d.remaining = 0;
    d.reset_after = reset_after(now);
    d.retry_after = d.reset_after;
    return d;
}

void order_by_creation(std::vector<api_key_record>& keys) {
    std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
        return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
}

}  // namespace dinex::core

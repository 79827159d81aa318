#include "auth/limits.hpp"
#include "core/text.hpp"

#include <charconv>
#include <cmath>

namespace dinex::auth {

const core::rate_limit& role_limits::of(const std::optional<core::principal>& who) const noexcept {
    if (!who) return anonymous;
    switch (who->key_role) {
        case core::role::reader: return reader;
        case core::role::writer: return writer;
        case core::role::admin: return admin;
    }
    return anonymous;
}

bool role_limits::all_unlimited() const noexcept {
    return anonymous.unlimited() && reader.unlimited() && writer.unlimited() && admin.unlimited();
}

std::optional<std::string> parse_role_limits(std::string_view spec, role_limits& limits) {
    if (spec == "off") {
        limits = role_limits{{0, 0}, {0, 0}, {0, 0}, {0, 0}};
        return std::nullopt;
    }
    for (const std::string_view item : core::split_list(spec)) {
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) return "expected ROLE=RATE/BURST, got '" + std::string(item) + "'";
        const std::string_view name = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        core::rate_limit* target = name == "anonymous" ? &limits.anonymous
                                   : name == "reader"  ? &limits.reader
                                   : name == "writer"  ? &limits.writer
                                   : name == "admin"   ? &limits.admin
                                                       : nullptr;
        if (!target) return "unknown role '" + std::string(name) + "' (anonymous, reader, writer, admin)";
        if (value == "off") {
            *target = {0, 0};
            continue;
        }
        const auto slash = value.find('/');
        double rate = 0;
        unsigned burst = 0;
        const std::string_view r = value.substr(0, slash);
        const auto [rend, rec] = std::from_chars(r.data(), r.data() + r.size(), rate);
        bool ok = slash != std::string_view::npos && rec == std::errc{} && rend == r.data() + r.size() &&
                  std::isfinite(rate) && rate > 0 && rate <= 1e6;
        if (ok) {
            const std::string_view b = value.substr(slash + 1);
            const auto [bend, bec] = std::from_chars(b.data(), b.data() + b.size(), burst);
            ok = bec == std::errc{} && bend == b.data() + b.size() && burst >= 1 && burst <= 10'000'000;
        }
        if (!ok) {
            return "expected RATE/BURST (a positive number per second, a whole burst >= 1) or off for " +
                   std::string(name) + ", got '" + std::string(value) + "'";
        }
        *target = {rate, burst};
    }
    return std::nullopt;
}

}  // namespace dinex::auth

#include "auth/gcra_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>

namespace dinex::auth {
namespace {

core::millis ceil_ms(std::int64_t us) { return static_cast<core::millis>((us + 999) / 1000); }

}  // namespace

gcra_limiter::gcra_limiter(std::size_t max_clients)
    : max_per_shard_(std::max<std::size_t>(1, max_clients / shard_count)) {}

std::size_t gcra_limiter::size() {
    std::size_t n = 0;
    for (auto& s : shards_) {
        const std::lock_guard lock(s.mutex);
        n += s.tat_us.size();
    }
    return n;
}

void gcra_limiter::make_room(shard& s, std::int64_t now_us) {
    auto oldest = s.tat_us.end();
    for (auto it = s.tat_us.begin(); it != s.tat_us.end();) {
        if (it->second <= now_us) {
            it = s.tat_us.erase(it);  // bucket full again: forgetting it changes nothing
            continue;
        }
        if (oldest == s.tat_us.end() || it->second < oldest->second) oldest = it;
        ++it;
    }
    // Every tracked client is still limited: forget the one closest to a full bucket.
    if (s.tat_us.size() >= max_per_shard_ && oldest != s.tat_us.end()) s.tat_us.erase(oldest);
}

core::result<core::limit_decision> gcra_limiter::acquire(std::string_view client,
                                                         const core::rate_limit& limit, core::millis now) {
    core::limit_decision d;
    if (limit.unlimited()) return d;
    // T: one request's worth of time; tau: the whole bucket (burst requests).
    const auto interval_us = static_cast<std::int64_t>(std::ceil(1e6 / limit.per_second));
    const std::int64_t tau_us = interval_us * static_cast<std::int64_t>(limit.burst);
    const std::int64_t now_us = now * 1000;
    d.limit = limit.burst;

    shard& s = shards_[std::hash<std::string_view>{}(client) % shard_count];
    const std::lock_guard lock(s.mutex);
    auto it = s.tat_us.find(std::string(client));
    const std::int64_t tat = it == s.tat_us.end() ? now_us : std::max(it->second, now_us);
    const std::int64_t new_tat = tat + interval_us;
    if (new_tat - now_us > tau_us) {
        d.allowed = false;
        d.remaining = 0;
        d.retry_after = ceil_ms(new_tat - tau_us - now_us);
        d.reset_after = ceil_ms(tat - now_us);
        return d;
    }
    if (it == s.tat_us.end()) {
        if (s.tat_us.size() >= max_per_shard_) make_room(s, now_us);
        s.tat_us.emplace(std::string(client), new_tat);
    } else {
        it->second = new_tat;
    }
    d.allowed = true;
    d.remaining = static_cast<std::uint32_t>((tau_us - (new_tat - now_us)) / interval_us);
    d.reset_after = ceil_ms(new_tat - now_us);
    return d;
}

}  // namespace dinex::auth

#include "aws/retry.hpp"

#include <algorithm>
#include <thread>

namespace dinex::aws {

sleep_function real_sleep() {
    return [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

std::chrono::milliseconds backoff_bound(const retry_policy& p, int retry) noexcept {
    if (retry < 1) return std::chrono::milliseconds{0};
    // Shift at most 30 so the product cannot overflow; the cap applies long before.
    const int shift = std::min(retry - 1, 30);
    const auto grown = p.base.count() * (std::int64_t{1} << shift);
    return std::chrono::milliseconds{std::min<std::int64_t>(grown, p.cap.count())};
}

backoff::backoff(retry_policy p, sleep_function sleep, std::uint64_t seed)
    : policy_(p), sleep_(std::move(sleep)), rng_(seed) {}

std::chrono::milliseconds backoff::delay(int retry) {
    const auto bound = backoff_bound(policy_, retry).count();
    std::uniform_int_distribution<std::int64_t> dist(0, bound);
    const std::lock_guard lock(mutex_);
    return std::chrono::milliseconds{dist(rng_)};
}

}  // namespace dinex::aws

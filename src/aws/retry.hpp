#pragma once
// Exponential backoff with full jitter (the AWS Architecture Blog's "Exponential Backoff And
// Jitter"): before retry n (n = 1, 2, ...) wait uniform(0, min(cap, base * 2^(n-1))). The sleep and
// the random source are injected so tests never sleep.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>

namespace dinex::aws {

struct retry_policy {
    std::chrono::milliseconds base{25};
    std::chrono::milliseconds cap{1000};
    int max_attempts = 5;  // attempts in all, the first one included
};

using sleep_function = std::function<void(std::chrono::milliseconds)>;

// The real one: std::this_thread::sleep_for.
sleep_function real_sleep();

// The upper bound of the wait before retry `retry` (1-based).
std::chrono::milliseconds backoff_bound(const retry_policy& p, int retry) noexcept;

class backoff {
public:
    explicit backoff(retry_policy p = {}, sleep_function sleep = real_sleep(),
                     std::uint64_t seed = std::random_device{}());

    const retry_policy& policy() const noexcept { return policy_; }
    // A jittered delay for retry `retry` (1-based), within [0, backoff_bound(retry)].
    std::chrono::milliseconds delay(int retry);
    // Sleeps that delay through the injected sleep function.
    void wait(int retry) { sleep_(delay(retry)); }

    // Runs `attempt` until it succeeds, fails with a non-retryable error, or the attempts are used
    // up. `attempt` returns std::expected<T, E>; `retryable(const E&)` decides.
    template <class Attempt, class Retryable>
    auto run(Attempt&& attempt, Retryable&& retryable) -> decltype(attempt()) {
        for (int n = 1;; ++n) {
            auto r = attempt();
            if (r || n >= policy_.max_attempts || !retryable(r.error())) return r;
            wait(n);
        }
    }

private:
    retry_policy policy_;
    sleep_function sleep_;
    std::mutex mutex_;
    std::mt19937_64 rng_;
};

}  // namespace dinex::aws

#pragma once
// The in-process rate limiter: GCRA (the generic cell rate algorithm, a token bucket kept as one
// number per client: the theoretical arrival time). Sharded, one lock per shard, so it holds
// across the server's threads. Memory is bounded: a client whose bucket is full again has no
// state worth keeping (a fresh entry behaves the same), so such entries are evicted first.
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/access.hpp"

namespace dinex::auth {

class gcra_limiter final : public core::rate_limiter {
public:
    explicit gcra_limiter(std::size_t max_clients = 100'000);

    std::string_view backend_name() const noexcept override { return "memory"; }
    core::result<core::limit_decision> acquire(std::string_view client, const core::rate_limit& limit,
                                               core::millis now) override;

    std::size_t size();  // clients tracked (for tests)

private:
    static constexpr std::size_t shard_count = 16;
    struct shard {
        std::mutex mutex;
        std::unordered_map<std::string, std::int64_t> tat_us;  // theoretical arrival time, µs
    };
    void make_room(shard& s, std::int64_t now_us);

    std::size_t max_per_shard_;
    std::array<shard, shard_count> shards_;
};

}  // namespace dinex::auth

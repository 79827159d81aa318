#pragma once
// A bounded cache of encoded lookup answers, keyed by tracking id, so a package that many
// customers refresh is read from the store and encoded once per change instead of once per view.
//
// Correctness: a write invalidates its package after the commit and before its client is answered,
// so a client never reads older data than it wrote. A lookup that read the store before a commit
// and finishes after the invalidation must not put its stale answer back: each shard counts
// invalidations, and `put` is refused when the count moved since `begin`.
// It assumes this process is the only writer of the store (true for the embedded SQLite default);
// with a shared store (DynamoDB, several instances) leave it off.
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/model.hpp"

namespace dinex::api {

class lookup_cache {
public:
    explicit lookup_cache(std::size_t capacity);

    bool enabled() const noexcept { return capacity_per_shard_ > 0; }

    std::optional<std::string> get(std::string_view tracking_id, core::millis now);

    struct ticket {
        std::size_t shard;
        std::uint64_t generation;
    };
    ticket begin(std::string_view tracking_id);
    void put(const ticket& t, std::string_view tracking_id, std::string body, core::millis expires_at);
    void invalidate(std::string_view tracking_id);

private:
    struct entry {
        std::string body;
        core::millis expires_at;
    };
    struct shard {
        std::mutex mutex;
        std::unordered_map<std::string, entry> entries;
        std::uint64_t generation = 0;
    };
    static constexpr std::size_t shard_count = 16;

    std::size_t shard_of(std::string_view id) const noexcept;

    std::size_t capacity_per_shard_;
    std::array<shard, shard_count> shards_;
};

}  // namespace dinex::api

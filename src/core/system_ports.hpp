#pragma once
// Production implementations of the clock and id generator ports.
#include <cstdint>
#include <mutex>

#include "core/ports.hpp"

namespace dinex::core {

class system_clock final : public clock {
public:
    millis now() override;
};

// ULIDs (26 Crockford base32 characters): time-ordered, 80 random bits, safe in URLs and keys.
class ulid_generator final : public id_generator {
public:
    explicit ulid_generator(clock& c) : clock_(c) {}
    std::string next_id() override;

private:
    clock& clock_;
};

// ULIDs in the specification's monotonic mode: within one millisecond the random part of the
// previous id is incremented, so ids sort in the order they were made (the outbox lists and pages
// deliveries by id). Thread-safe; made for one component's own ids, not a hot shared path.
class monotonic_ulid_generator final : public id_generator {
public:
    explicit monotonic_ulid_generator(clock& c) : clock_(c) {}
    std::string next_id() override;

private:
    clock& clock_;
    std::mutex mutex_;
    millis last_time_ = -1;
    std::uint64_t random_hi_ = 0;  // 16 bits
    std::uint64_t random_lo_ = 0;  // 64 bits
};

}  // namespace dinex::core

#pragma once
// Production implementations of the clock and id generator ports.
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

}  // namespace dinex::core

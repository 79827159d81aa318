#pragma once
// Deterministic clock and id generator: tests set time instead of sleeping.
#include <atomic>
#include <string>

#include "core/ports.hpp"

namespace dinex::testing {

inline constexpr core::millis base_time = 1'764'403'200'000;  // 2025-11-29T08:00:00Z

class manual_clock final : public core::clock {
public:
    explicit manual_clock(core::millis start = base_time) : now_(start) {}
    core::millis now() override { return now_.load(); }
    void set(core::millis t) { now_ = t; }
    void advance(core::millis d) { now_ += d; }

private:
    std::atomic<core::millis> now_;
};

class sequence_ids final : public core::id_generator {
public:
    std::string next_id() override {
        char buf[32];
        std::snprintf(buf, sizeof buf, "GEN%08llu", static_cast<unsigned long long>(++n_));
        return buf;
    }

private:
    std::atomic<unsigned long long> n_{0};
};

}  // namespace dinex::testing

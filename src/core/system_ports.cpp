#include "core/system_ports.hpp"

#include <chrono>
#include <random>

namespace dinex::core {

millis system_clock::now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

std::mt19937_64& thread_rng() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

// 48-bit time in the first 10 characters, 80 random bits (r_hi: top 16, r_lo: low 64) in the last 16.
std::string encode_ulid(std::uint64_t t, std::uint64_t r_hi, std::uint64_t r_lo) {
    static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::string out(26, '0');
    for (int i = 9; i >= 0; --i) out[static_cast<std::size_t>(9 - i)] = alphabet[(t >> (i * 5)) & 31U];
    for (int i = 0; i < 16; ++i) {
        const int bit = 79 - i * 5;  // top bit of this 5-bit group within the 80-bit value
        std::uint64_t v = 0;
        for (int b = 0; b < 5; ++b) {
            const int pos = bit - b;
            const std::uint64_t bitv = pos >= 64 ? (r_hi >> (pos - 64)) & 1U : (r_lo >> pos) & 1U;
            v = (v << 1) | bitv;
        }
        out[10 + static_cast<std::size_t>(i)] = alphabet[v];
    }
    return out;
}

}  // namespace

std::string ulid_generator::next_id() {
    auto& rng = thread_rng();
    const std::uint64_t r_hi = rng() & 0xFFFFU;
    const std::uint64_t r_lo = rng();
    return encode_ulid(static_cast<std::uint64_t>(clock_.now()), r_hi, r_lo);
}

std::string monotonic_ulid_generator::next_id() {
    const millis now = clock_.now();
    const std::lock_guard lock(mutex_);
    if (now > last_time_) {
        last_time_ = now;
        auto& rng = thread_rng();
        // The top random bit starts clear, so 2^79 increments fit before an overflow could.
        random_hi_ = rng() & 0x7FFFU;
        random_lo_ = rng();
    } else if (++random_lo_ == 0) {
        ++random_hi_;  // a clock that stepped back keeps the last time: ids still increase
    }
    return encode_ulid(static_cast<std::uint64_t>(last_time_), random_hi_, random_lo_);
}

}  // namespace dinex::core

#include "core/system_ports.hpp"

#include <chrono>
#include <random>

namespace dinex::core {

millis system_clock::now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string ulid_generator::next_id() {
    static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto t = static_cast<std::uint64_t>(clock_.now());
    const std::uint64_t r_hi = rng() & 0xFFFFU;  // 16 bits
    const std::uint64_t r_lo = rng();            // 64 bits
    std::string out(26, '0');
    // 48-bit time in the first 10 characters (50 bits, top two zero).
    for (int i = 9; i >= 0; --i) out[static_cast<std::size_t>(9 - i)] = alphabet[(t >> (i * 5)) & 31U];
    // 80 random bits in the last 16 characters.
    for (int i = 0; i < 16; ++i) {
        const int bit = 79 - i * 5;  // top bit of this 5-bit group within the 80-bit value
        std::uint64_t v = 0;
        for (int b = 0; b < 5; ++b) {
            const int pos = bit - b;
            const std::uint64_t bitv = pos >= 64 ? (r_hi >> (pos - 64)) & 1U : (r_lo >> pos) & 1U;
            v = (v << 1) | bitv;
        }
        out[static_cast<std::size_t>(10 + i)] = alphabet[v];
    }
    return out;
}

}  // namespace dinex::core

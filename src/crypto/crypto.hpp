#pragma once
// SHA-256, HMAC-SHA256, random bytes and the helpers that go with them, once for every layer that
// signs or hashes (SigV4, API keys, webhook signatures). Failures of the library throw: they mean a
// broken process, not bad input.
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dinex::crypto {

using sha256_digest = std::array<unsigned char, 32>;

// FIPS 180-4.
[[nodiscard]] sha256_digest sha256(std::string_view data);
// RFC 2104 with SHA-256 (the vectors of RFC 4231). Throws std::length_error for a key over INT_MAX.
[[nodiscard]] sha256_digest hmac_sha256(std::string_view key, std::string_view data);

// The digest's bytes as a string_view, for feeding one HMAC's output in as the next one's key.
[[nodiscard]] inline std::string_view as_view(const sha256_digest& d) noexcept {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Lower-case hex, two digits a byte.
[[nodiscard]] std::string hex(std::span<const unsigned char> bytes);

// RFC 4648 base64 with padding (DynamoDB's JSON protocol carries binary attributes this way).
[[nodiscard]] std::string base64_encode(std::string_view bytes);
// nullopt unless `text` is padded base64 (length a multiple of 4, only the alphabet, '=' at the end).
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

// Fills `out` from the operating system's generator (OpenSSL's RAND_bytes).
void random_bytes(std::span<unsigned char> out);

// Equal contents, in a time that depends on the length only (for comparing secrets and their hashes).
[[nodiscard]] bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

// Overwrites `bytes` with zeros in a way the compiler may not drop (secrets about to be freed).
void wipe(std::span<unsigned char> bytes) noexcept;
void wipe(std::string& s) noexcept;

}  // namespace dinex::crypto

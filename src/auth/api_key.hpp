#pragma once
// API keys: `dnx_<id>_<secret>`, id = 12 base32 characters (public, names the key in `keys list`
// and in logs), secret = 32 random bytes (OpenSSL RAND_bytes) in base32. Only the SHA-256 of the
// whole key is stored: the secret has 256 bits of entropy, so a fast hash is enough (a slow
// password hash protects low-entropy secrets, which these are not). OpenSSL stays in the .cpp.
#include <optional>
#include <string>
#include <string_view>

#include "core/access.hpp"

namespace dinex::auth {

inline constexpr std::string_view key_prefix = "dnx_";
inline constexpr std::size_t key_id_length = 12;
inline constexpr std::size_t key_secret_length = 52;  // 256 bits in base32, no padding
inline constexpr std::size_t key_length = key_prefix.size() + key_id_length + 1 + key_secret_length;

// The id of a well-formed key, or nullopt (wrong prefix, length or alphabet).
std::optional<std::string> key_id_of(std::string_view key) noexcept;

// Lower-case hex SHA-256 of the whole key.
std::string hash_key(std::string_view key);

// Compares hash_key(key) with `stored_hash` in constant time (CRYPTO_memcmp).
bool key_matches(std::string_view key, std::string_view stored_hash);

struct generated_key {
    std::string key;  // shown once, never stored
    core::api_key_record record;
};
// A new random key and its record. Throws std::runtime_error when the random generator fails.
generated_key generate_key(std::string name, core::role r, core::millis now);

// The key a request presents: `Authorization: Bearer KEY` or `X-Api-Key: KEY`. Empty when the
// request has neither; `malformed` is set when a credential header is present but unusable
// (another scheme, an empty token, or both headers with different keys).
struct presented_credential {
    std::string_view key;
    bool present = false;
};
presented_credential credential_from(std::string_view authorization, std::string_view x_api_key) noexcept;

}  // namespace dinex::auth

#include "auth/api_key.hpp"

#include <array>

#include "core/text.hpp"
#include "crypto/crypto.hpp"

namespace dinex::auth {
namespace {

constexpr std::string_view base32_alphabet = "abcdefghijklmnopqrstuvwxyz234567";

bool is_base32(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }

// RFC 4648 base32, lower case, no padding.
std::string base32(const unsigned char* data, std::size_t n) {
    std::string out;
    out.reserve((n * 8 + 4) / 5);
    unsigned buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        buffer = (buffer << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            out.push_back(base32_alphabet[(buffer >> (bits - 5)) & 31U]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(base32_alphabet[(buffer << (5 - bits)) & 31U]);
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        if (x != b[i]) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> key_id_of(std::string_view key) noexcept {
    if (key.size() != key_length || !key.starts_with(key_prefix)) return std::nullopt;
    const std::string_view id = key.substr(key_prefix.size(), key_id_length);
    if (key[key_prefix.size() + key_id_length] != '_') return std::nullopt;
    const std::string_view secret = key.substr(key_prefix.size() + key_id_length + 1);
    for (char c : id) {
        if (!is_base32(c)) return std::nullopt;
    }
    for (char c : secret) {
        if (!is_base32(c)) return std::nullopt;
    }
    return std::string(id);
}

std::string hash_key(std::string_view key) { return crypto::hex(crypto::sha256(key)); }

bool key_matches(std::string_view key, std::string_view stored_hash) {
    return crypto::equal_constant_time(hash_key(key), stored_hash);
}

generated_key generate_key(std::string name, core::role r, core::millis now) {
    std::array<unsigned char, 8> id_bytes{};       // 64 bits, 60 of them used by 12 characters
    std::array<unsigned char, 32> secret_bytes{};  // 256 bits
    crypto::random_bytes(id_bytes);
    crypto::random_bytes(secret_bytes);
    generated_key out;
    out.record.id = base32(id_bytes.data(), id_bytes.size()).substr(0, key_id_length);
    out.key.reserve(key_length);
    out.key.append(key_prefix)
        .append(out.record.id)
        .append("_")
        .append(base32(secret_bytes.data(), secret_bytes.size()));
    out.record.name = std::move(name);
    out.record.key_role = r;
    out.record.hash = hash_key(out.key);
    out.record.created_at = now;
    crypto::wipe(secret_bytes);
    return out;
}

presented_credential credential_from(std::string_view authorization, std::string_view x_api_key) noexcept {
    presented_credential out;
    std::string_view from_bearer;
    bool bearer_present = false;
    authorization = core::trim_blanks(authorization);
    if (!authorization.empty()) {
        bearer_present = true;
        const auto space = authorization.find(' ');
        if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "bearer")) {
            out.present = true;  // another scheme: malformed (empty key)
            return out;
        }
        from_bearer = core::trim_blanks(authorization.substr(space + 1));
    }
    x_api_key = core::trim_blanks(x_api_key);
    if (bearer_present && !x_api_key.empty() && x_api_key != from_bearer) {
        out.present = true;  // two different keys: refuse rather than guess
        return out;
    }
    out.present = bearer_present || !x_api_key.empty();
    out.key = bearer_present ? from_bearer : x_api_key;
    return out;
}

}  // namespace dinex::auth

#include "crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace dinex::crypto {
namespace {

const unsigned char* bytes(std::string_view s) {
    // OpenSSL takes unsigned bytes; an empty view may have a null data(), which it need not see.
    return reinterpret_cast<const unsigned char*>(s.empty() ? "" : s.data());
}

}  // namespace

sha256_digest sha256(std::string_view data) {
    sha256_digest out{};
    unsigned int len = 0;
    if (EVP_Digest(bytes(data), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len != out.size()) {
        throw std::runtime_error("SHA-256 failed");
    }
    return out;
}

sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("HMAC key too long");
    sha256_digest out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), bytes(key), static_cast<int>(key.size()), bytes(data), data.size(), out.data(),
             &len) == nullptr ||
        len != out.size()) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return out;
}

std::string hex(std::span<const unsigned char> data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (const unsigned char b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15U]);
    }
    return out;
}

std::string base64_encode(std::string_view data) {
    if (data.size() > static_cast<std::size_t>(INT_MAX / 4 * 3))
        throw std::length_error("base64_encode: too long");
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(data),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    // EVP_DecodeBlock skips surrounding blanks and counts padding as zero bytes: check the shape here.
    if (text.size() % 4 != 0 || text.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                              c == '+' || c == '/';
        if (c == '=' && i + 2 >= text.size()) {
            ++padding;
        } else if (!alphabet || padding > 0) {
            return std::nullopt;
        }
    }
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text),
                                  static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - padding);
    return out;
}

void random_bytes(std::span<unsigned char> out) {
    if (out.size() > static_cast<std::size_t>(INT_MAX))
        throw std::length_error("too many random bytes at once");
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        throw std::runtime_error("the random generator failed (RAND_bytes)");
    }
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::span<unsigned char> data) noexcept {
    if (!data.empty()) OPENSSL_cleanse(data.data(), data.size());
}

void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

}  // namespace dinex::crypto

#include "api/cursor.hpp"

#include <charconv>

#include "core/tracking_service.hpp"

namespace dinex::api {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view version_prefix = "v1.";

int sextet(char c) noexcept {
    const auto pos = alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

std::string to_base64url(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const auto n = (static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16) |
                       (static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest > 0) {
        unsigned n = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
        if (rest == 2) n |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        if (rest == 2) out += alphabet[(n >> 6) & 63];
    }
    return out;
}

// Unpadded base64url only; any other character, or an impossible length, is refused.
std::optional<std::string> from_base64url(std::string_view in) {
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() * 3 / 4);
    unsigned acc = 0;
    int bits = 0;
    for (const char c : in) {
        const int v = sextet(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    // Leftover bits must be zero, so each cursor has exactly one spelling.
    if ((acc & ((1U << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace

std::string encode_cursor(const core::package_cursor& c) {
    std::string plain(version_prefix);
    plain += std::to_string(c.updated_at);
    plain += '.';
    plain += c.tracking_id;
    return to_base64url(plain);
}

std::optional<core::package_cursor> decode_cursor(std::string_view text) {
    if (text.empty() || text.size() > 128) return std::nullopt;
    const auto plain = from_base64url(text);
    if (!plain || !plain->starts_with(version_prefix)) return std::nullopt;
    const std::string_view rest = std::string_view(*plain).substr(version_prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    core::package_cursor c;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, c.updated_at);
    if (ec != std::errc{} || end != rest.data() + dot || c.updated_at < 0) return std::nullopt;
    const std::string_view id = rest.substr(dot + 1);
    const auto normalized = core::normalize_tracking_id(id);
    if (!normalized || *normalized != id) return std::nullopt;
    c.tracking_id = std::string(id);
    return c;
}

}  // namespace dinex::api

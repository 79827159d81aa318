#include "api/json_writer.hpp"

#include <cmath>

namespace dinex::api {
namespace {

// Length of the well-formed UTF-8 sequence starting with the non-ASCII byte at s[i], or 0 when
// there is none (stray continuation byte, overlong form, surrogate, above U+10FFFF, truncated).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80;  // allowed range of the second byte
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (s.size() - i < n) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < n; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    }
    return n;
}

}  // namespace

json_writer& json_writer::value(double d) {
    separate();
    if (!std::isfinite(d)) {
        out_ += "null";  // JSON has no NaN or infinity; validation keeps them out of stored data
        return *this;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    if (r.ec != std::errc() || r.ptr - buf > 24) {
        r = std::to_chars(buf, buf + sizeof buf, d);
    }
    out_.append(buf, r.ptr);
    return *this;
}

void json_writer::quote(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out_ += '"';
    std::size_t run = 0;  // copy unescaped stretches in one append
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            // JSON text is UTF-8 (RFC 8259 8.1). Messages may echo raw request bytes (a path with
            // 0xFF in it), so a byte that starts no well-formed sequence is written as U+FFFD.
            if (const std::size_t n = utf8_sequence_length(s, i); n > 0) {
                i += n - 1;
                continue;
            }
            out_.append(s.data() + run, i - run);
            run = i + 1;
            out_ += "\xEF\xBF\xBD";
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out_.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"': out_ += "\\\""; break;
            case '\\': out_ += "\\\\"; break;
            case '\n': out_ += "\\n"; break;
            case '\r': out_ += "\\r"; break;
            case '\t': out_ += "\\t"; break;
            default:
                out_ += "\\u00";
                out_ += hex[c >> 4];
                out_ += hex[c & 0xF];
        }
    }
    out_.append(s.data() + run, s.size() - run);
    out_ += '"';
}

}  // namespace dinex::api

#pragma once
// Writing JSON strings by hand, once: what must be escaped, and what to do with bytes that are not
// UTF-8 (JSON text is UTF-8, RFC 8259 8.1, and a consumer such as Loki or CloudWatch Logs drops a
// line that is not).
#include <cstddef>
#include <string>
#include <string_view>

namespace dinex::text {

// Length of the well-formed UTF-8 sequence starting with the non-ASCII byte at s[i], or 0 when
// there is none (stray continuation byte, overlong form, surrogate, above U+10FFFF, truncated).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;

// Every byte belongs to a well-formed UTF-8 sequence.
[[nodiscard]] bool valid_utf8(std::string_view s) noexcept;

// Appends `s` to `out` as the inside of a JSON string (no quotes): '"', '\\' and control characters
// escaped (\n \r \t, else \u00xx), and each byte that starts no well-formed UTF-8 sequence written
// as U+FFFD, so the result is valid JSON whatever `s` holds (messages may echo raw request bytes).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace dinex::text

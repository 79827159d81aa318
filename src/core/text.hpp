#pragma once
// Small text helpers used across layers: blanks, ASCII case, and comma-separated configuration
// lists ("a, b,c"), read the same way by every option that takes one.
#include <string>
#include <string_view>
#include <vector>

namespace dinex::core {

// Without leading and trailing spaces and tabs (HTTP's optional whitespace, CSV cells).
inline std::string_view trim_blanks(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// `s` is 1 to `max_size` bytes of ASCII letters, digits and the bytes of `extra`: the plain
// tokens the router and the server accept from clients (stage names, ids, file names).
inline bool is_plain_token(std::string_view s, std::size_t max_size, std::string_view extra) noexcept {
    if (s.empty() || s.size() > max_size) return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        extra.find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

// ASCII letters lowered / raised; other bytes (UTF-8 included) unchanged.
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
}
inline std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return out;
}

// The items of `spec`, split at commas, without surrounding spaces; empty items are dropped.
inline std::vector<std::string_view> split_list(std::string_view spec) {
    std::vector<std::string_view> out;
    while (!spec.empty()) {
        const auto comma = spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

}  // namespace dinex::core

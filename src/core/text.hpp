#pragma once
// Comma-separated configuration lists ("a, b,c"), read the same way by every option that takes one.
#include <string_view>
#include <vector>

namespace dinex::core {

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

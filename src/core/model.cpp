#include "core/model.hpp"

#include "core/enum_names.hpp"
#include "core/text.hpp"

namespace dinex::core {

std::string_view to_string(status s) noexcept { return name_in(status_names, s, "UNKNOWN"); }

std::optional<status> parse_status(std::string_view text) noexcept {
    for (const status s : all_statuses) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

std::optional<status> parse_status_input(std::string_view text) {
    return parse_status(ascii_upper(trim_blanks(text)));
}

std::string status_list() {
    std::string out;
    for (const status s : all_statuses) {
        if (!out.empty()) out += ", ";
        out += to_string(s);
    }
    return out;
}

}  // namespace dinex::core

#include "core/model.hpp"

#include "core/text.hpp"

namespace dinex::core {

std::string_view to_string(status s) noexcept {
    switch (s) {
        case status::info_received: return "INFO_RECEIVED";
        case status::picked_up: return "PICKED_UP";
        case status::in_transit: return "IN_TRANSIT";
        case status::out_for_delivery: return "OUT_FOR_DELIVERY";
        case status::available_for_pickup: return "AVAILABLE_FOR_PICKUP";
        case status::delivery_failed: return "DELIVERY_FAILED";
        case status::delivered: return "DELIVERED";
        case status::exception: return "EXCEPTION";
        case status::return_to_sender: return "RETURN_TO_SENDER";
        case status::cancelled: return "CANCELLED";
    }
    return "UNKNOWN";
}

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

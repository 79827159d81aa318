#include "core/model.hpp"

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
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    std::string upper(text);
    for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return parse_status(upper);
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

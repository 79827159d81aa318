#pragma once
// The names of the core's enums, once: the wire (statuses, outcomes, error codes), metric labels and
// logs all read them here. Code indexes by position (metric label slots, wire tables), so each table
// is checked at compile time to hold enumerator i at entry i, one entry per enumerator: reordering
// or adding an enumerator without its name fails the build instead of mislabelling.
#include <array>
#include <cstddef>
#include <string_view>

#include "core/access.hpp"
#include "core/error.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"

namespace dinex::core {

template <class E>
struct enum_name {
    E value;
    std::string_view name;
};

// Entry i holds enumerator i, and `last` is the last entry.
template <class E, std::size_t N>
constexpr bool indexed_by_value(const std::array<enum_name<E>, N>& table, E last) {
    for (std::size_t i = 0; i < N; ++i) {
        if (static_cast<std::size_t>(table[i].value) != i) return false;
    }
    return N > 0 && table[N - 1].value == last;
}

// The name of `v`, or `fallback` for a value outside the enum.
template <class E, std::size_t N>
constexpr std::string_view name_in(const std::array<enum_name<E>, N>& table, E v,
                                   std::string_view fallback = {}) noexcept {
    const auto i = static_cast<std::size_t>(v);
    return i < N ? table[i].name : fallback;
}

// The names alone, in enumerator order (metric label values).
template <class E, std::size_t N>
constexpr std::array<std::string_view, N> names_of(const std::array<enum_name<E>, N>& table) {
    std::array<std::string_view, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = table[i].name;
    return out;
}
// The same after a first value that is no enumerator ("anonymous" before the roles).
template <class E, std::size_t N>
constexpr std::array<std::string_view, N + 1> names_of(std::string_view first,
                                                       const std::array<enum_name<E>, N>& table) {
    std::array<std::string_view, N + 1> out{first};
    for (std::size_t i = 0; i < N; ++i) out[i + 1] = table[i].name;
    return out;
}

// The wire spelling of the statuses (ALL_CAPS, as the original API).
inline constexpr std::array<enum_name<status>, 10> status_names = {{
    {status::info_received, "INFO_RECEIVED"},
    {status::picked_up, "PICKED_UP"},
    {status::in_transit, "IN_TRANSIT"},
    {status::out_for_delivery, "OUT_FOR_DELIVERY"},
    {status::available_for_pickup, "AVAILABLE_FOR_PICKUP"},
    {status::delivery_failed, "DELIVERY_FAILED"},
    {status::delivered, "DELIVERED"},
    {status::exception, "EXCEPTION"},
    {status::return_to_sender, "RETURN_TO_SENDER"},
    {status::cancelled, "CANCELLED"},
}};
static_assert(indexed_by_value(status_names, status::cancelled));
static_assert(
    [] {
        for (std::size_t i = 0; i < all_statuses.size(); ++i) {
            if (all_statuses[i] != status_names[i].value) return false;
        }
        return all_statuses.size() == status_names.size();
    }(),
    "all_statuses lists every status in enumerator order");

// A stored event's `result` in a batch answer, and the `outcome` label of the events metric.
inline constexpr std::array<enum_name<outcome_kind>, 3> outcome_names = {{
    {outcome_kind::created, "created"},
    {outcome_kind::late_arrival, "late_arrival"},
    {outcome_kind::replay, "replay"},
}};
static_assert(indexed_by_value(outcome_names, outcome_kind::replay));

// The `code` of an error answer (docs/API.md): snake case, stable.
inline constexpr std::array<enum_name<errc>, 12> error_code_names = {{
    {errc::invalid_argument, "invalid_argument"},
    {errc::unprocessable, "unprocessable_entity"},
    {errc::not_found, "not_found"},
    {errc::conflict, "conflict"},
    {errc::payload_too_large, "payload_too_large"},
    {errc::unsupported_media_type, "unsupported_media_type"},
    {errc::method_not_allowed, "method_not_allowed"},
    {errc::unavailable, "unavailable"},
    {errc::internal, "internal"},
    {errc::unauthenticated, "unauthenticated"},
    {errc::permission_denied, "permission_denied"},
    {errc::resource_exhausted, "resource_exhausted"},
}};
static_assert(indexed_by_value(error_code_names, errc::resource_exhausted));

// Key roles, as keys files, the CLI and the `role` metric label write them.
inline constexpr std::array<enum_name<role>, 3> role_names = {{
    {role::reader, "reader"},
    {role::writer, "writer"},
    {role::admin, "admin"},
}};
static_assert(indexed_by_value(role_names, role::admin));

}  // namespace dinex::core

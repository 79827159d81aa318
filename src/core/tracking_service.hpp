#pragma once
// The application core: validates what writers send, applies the lifecycle through the store, and
// answers lookups. No I/O of its own: the store, clock and id generator are injected.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"
#include "core/ports.hpp"

namespace dinex::core {

// Field limits, shared by the codec (for early rejection) and the validator.
struct limits {
    static constexpr std::size_t location_max = 200;
    static constexpr std::size_t description_max = 500;
    static constexpr std::size_t notes_max = 1000;
    static constexpr std::size_t event_id_max = 64;
    static constexpr millis max_future_skew = millis{5} * 60 * 1000;
    static constexpr std::size_t batch_max = 500;    // events per POST /tracking/batch
    static constexpr std::size_t list_default = 50;  // packages per listing page
    static constexpr std::size_t list_max = 200;
};

// What a writer sends, already decoded from its wire format but not yet validated.
struct event_input {
    std::optional<std::string> tracking_id;
    std::optional<std::string> location;
    std::optional<std::string> status;
    std::optional<millis> timestamp;
    std::optional<std::string> event_id;
    std::optional<std::string> description;
    std::optional<std::string> notes;
    std::optional<double> latitude;
    std::optional<double> longitude;
    std::optional<millis> estimated_delivery;
    // Top-level fields the service does not know: accepted and not stored, as the original did,
    // and named in the answer.
    std::vector<std::string> ignored_fields;
};

struct service_config {
    lifecycle_policy lifecycle;
    std::size_t max_events_per_lookup = 1000;
};

// The original service's messages, kept word for word where it had one (docs/MIGRATING.md).
inline constexpr std::string_view tracking_id_required = "tracking_id requerido";
inline constexpr std::string_view tracking_not_found = "Tracking no encontrado";

// The idempotency key of an event that has a timestamp but no event_id: "c-" and 32 hex digits
// of a 128-bit hash of everything a replay must match (core/lifecycle.cpp), so the same event
// sent again is a replay and a different one never is.
std::string content_event_id(const event& e);

// Trims and upper-cases; then requires [A-Z0-9][A-Z0-9_-]{2,39}.
result<std::string> normalize_tracking_id(std::string_view raw);

// Checks every field and reports every broken rule at once, so a client fixes its request in one go.
result<submission> validate(const event_input& in, millis now, const lifecycle_policy& policy,
                            id_generator& ids);

class tracking_service {
public:
    tracking_service(store& s, clock& c, id_generator& ids, service_config cfg = {});

    result<package> track(std::string_view raw_tracking_id);

    // `done` runs exactly once, possibly on a store thread.
    void record(const event_input& in, append_callback done);

    // Validates every item and stores the valid ones in one store call. `done` gets one result
    // per input, in order: a validation error for a bad item, the store's answer for the others.
    void record_batch(const std::vector<event_input>& in, batch_callback done);

    // The operator listing; `q.now` is set here.
    result<package_page> list_packages(package_query q);

    // One page of the full export (see store::export_packages).
    result<export_page> export_packages(std::string_view cursor, std::size_t limit);

    result<std::size_t> purge_expired();

    millis now() { return clock_.now(); }
    clock& clock_source() noexcept { return clock_; }
    store& backing_store() noexcept { return store_; }

private:
    store& store_;
    clock& clock_;
    id_generator& ids_;
    service_config cfg_;
};

}  // namespace dinex::core

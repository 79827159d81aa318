#pragma once
// The JSON wire format of the public API: strict decoding of submissions, encoding of packages,
// events and errors. Boost.JSON stays inside this layer.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"
#include "core/tracking_service.hpp"

namespace dinex::api {

// Unknown top-level fields of an event (or a batch) listed in the answer: at most this many,
// each cut to this many bytes.
inline constexpr std::size_t ignored_fields_listed = 20;
inline constexpr std::size_t ignored_field_name_max = 64;

// Rejects malformed JSON, non-objects and wrong types, naming each field. Fields it does not
// know are ignored, as the original service did, and listed in event_input::ignored_fields.
core::result<core::event_input> decode_event_input(std::string_view body);

// POST /tracking/batch: {"events":[...]} with 1..limits::batch_max items. The outer result fails
// for the body as a whole (not JSON, no events, too many); each item is decoded on its own, so one
// malformed item fails alone.
struct batch_input {
    std::vector<core::result<core::event_input>> items;
    std::vector<std::string> ignored_fields;  // beside "events"
};
core::result<batch_input> decode_batch(std::string_view body);

// What the answer to one write says beyond its outcome. `idempotency`: how a retry of it is
// recognised — "event_id" (the client's key, or Idempotency-Key), "content" (no key but a
// timestamp: core::content_event_id), "none" (sent again, it is stored again). `ignored_fields`:
// the fields it had that the service does not know.
struct write_note {
    std::string_view idempotency = "none";
    std::vector<std::string> ignored_fields;
};
write_note note_of(const core::event_input& in);

std::string encode_package(const core::package& p);
// The POST answer: the original's fields (message, tracking_id, timestamp, location) plus
// `idempotency`, `ignored_fields` (when any), the stored event and the state after it.
std::string encode_append(const core::append_outcome& o, const write_note& note);
// {"error":"<message>","code":…,"details":[…],["tracking_id":…,]"request_id":…}: `error` is the
// human-readable string the original answered; `tracking_id` is echoed when given (404 lookups).
std::string encode_error(const core::error& e, std::string_view request_id,
                         std::string_view tracking_id = {});
// {"results":[...]}: per item its index, an HTTP-like status (the one the item would have had
// alone, from `status_of`, the API's one error table), its write_note, and the event and state
// or the error fields of encode_error; `ignored_fields` of the batch object itself.
std::string encode_batch(const std::vector<core::result<core::append_outcome>>& results,
                         const std::vector<std::string>& ignored_fields, const std::vector<write_note>& notes,
                         int (*status_of)(core::errc));
// {"packages":[state...],"next_cursor":"..."|null}
std::string encode_package_page(const core::package_page& page, std::string_view next_cursor);
// One line of `export`: exactly the fields of a POST /tracking body, so `import` reads it back.
std::string encode_export_line(const core::event& e);
// GET /health: the original's fields (status "healthy"/"unhealthy", service, environment,
// timestamp in epoch seconds, and error when unhealthy) plus version and store.
struct health_report {
    bool healthy = true;
    std::string_view error;  // the client-safe reason when unhealthy
    std::string_view service = "dinex-tracking";
    std::string_view environment;
    core::millis timestamp = 0;
    std::string_view version;
    std::string_view store;
};
std::string encode_health(const health_report& h);

}  // namespace dinex::api

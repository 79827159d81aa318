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

// Rejects malformed JSON, non-objects, unknown fields and wrong types, naming each field.
core::result<core::event_input> decode_event_input(std::string_view body);

// POST /tracking/batch: {"events":[...]} with 1..limits::batch_max items. The outer result fails
// for the body as a whole (not JSON, no events, too many); each item is decoded on its own, so one
// malformed item fails alone.
core::result<std::vector<core::result<core::event_input>>> decode_batch(std::string_view body);

std::string encode_package(const core::package& p);
// The POST answer: the original's fields (message, tracking_id, timestamp, location) plus the
// stored event and the state after it.
std::string encode_append(const core::append_outcome& o);
std::string encode_error(const core::error& e, std::string_view request_id);
// {"results":[...]}: per item its index, an HTTP-like status (the one the item would have had
// alone, from `status_of`, the API's one error table), and the event and state or the error.
std::string encode_batch(const std::vector<core::result<core::append_outcome>>& results,
                         int (*status_of)(core::errc));
// {"packages":[state...],"next_cursor":"..."|null}
std::string encode_package_page(const core::package_page& page, std::string_view next_cursor);
// One line of `export`: exactly the fields of a POST /tracking body, so `import` reads it back.
std::string encode_export_line(const core::event& e);
std::string encode_health(std::string_view status, std::string_view version, std::string_view store);

}  // namespace dinex::api

#pragma once
// The JSON wire format of the public API: strict decoding of submissions, encoding of packages,
// events and errors. Boost.JSON stays inside this layer.
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"
#include "core/tracking_service.hpp"

namespace dinex::api {

// Rejects malformed JSON, non-objects, unknown fields and wrong types, naming each field.
core::result<core::event_input> decode_event_input(std::string_view body);

std::string encode_package(const core::package& p);
// The POST answer: the original's fields (message, tracking_id, timestamp, location) plus the
// stored event and the state after it.
std::string encode_append(const core::append_outcome& o);
std::string encode_error(const core::error& e, std::string_view request_id);
std::string encode_health(std::string_view status, std::string_view version, std::string_view store);

}  // namespace dinex::api

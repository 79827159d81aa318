#pragma once
// The first step of decoding every JSON request body: parse, with a depth limit, into an object,
// and the one way field errors become an error for the client.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace dinex::api {

// Any JSON value; `invalid_argument` on the field `body` (rule json) for anything else.
core::result<boost::json::value> parse_body(std::string_view body);

// `invalid_argument` on the field `body` (rule json or type:object) for anything but an object.
core::result<boost::json::object> parse_object_body(std::string_view body);

// invalid_argument listing every field with its rule, in the message too, after `prefix`.
core::error field_errors(std::vector<core::field_error> errors,
                         std::string_view prefix = "the body has fields of the wrong type or not allowed: ");

}  // namespace dinex::api

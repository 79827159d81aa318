#pragma once
// The first step of decoding every JSON request body: parse, with a depth limit, into an object,
// and the one way field errors become an error for the client.
#include <boost/json/object.hpp>

#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace dinex::api {

// `invalid_argument` on the field `body` (rule json or type:object) for anything but an object.
core::result<boost::json::object> parse_object_body(std::string_view body);

// invalid_argument listing every field with its rule, in the message too.
core::error field_errors(std::vector<core::field_error> errors);

}  // namespace dinex::api

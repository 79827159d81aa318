#pragma once
// The listing's page cursor on the wire: opaque to clients (base64url of the last row's
// updated_at and tracking_id), strictly checked when it comes back.
#include <optional>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace dinex::api {

std::string encode_cursor(const core::package_cursor& c);
// nullopt for anything encode_cursor did not produce (bad base64url, bad shape, bad id).
std::optional<core::package_cursor> decode_cursor(std::string_view text);

}  // namespace dinex::api

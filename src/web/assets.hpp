#pragma once
// The tracking page's files (web/) and the staff app's (web/staff/), compiled into the binary.
#include <cstddef>
#include <optional>
#include <string_view>

namespace dinex::web {

struct asset {
    std::string_view content_type;
    std::string_view body;
    std::string_view etag;  // quoted, content-derived
};

// "index.html", "app.js", "staff/sw.js" …: the path relative to web/.
std::optional<asset> find_asset(std::string_view name) noexcept;

}  // namespace dinex::web

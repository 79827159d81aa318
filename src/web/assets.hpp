#pragma once
// The tracking page's files (web/), compiled into the binary.
#include <cstddef>
#include <optional>
#include <string_view>

namespace dinex::web {

struct asset {
    std::string_view content_type;
    std::string_view body;
    std::string_view etag;  // quoted, content-derived
};

// "index.html", "app.js" …: the path relative to web/.
std::optional<asset> find_asset(std::string_view name) noexcept;

}  // namespace dinex::web

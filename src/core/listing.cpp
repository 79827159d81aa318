#include "core/listing.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace dinex::core {

bool listed_after(const package_state& s, const package_cursor& c) {
    return s.updated_at != c.updated_at ? s.updated_at < c.updated_at : s.tracking_id < c.tracking_id;
}

package_cursor listing_bound(const package_query& q) {
    package_cursor bound{std::numeric_limits<millis>::max(), {}};
    if (q.after) bound = *q.after;
    if (q.stale_before && *q.stale_before <= bound.updated_at) bound = {*q.stale_before, {}};
    return bound;
}

package_page listing_page(std::vector<package_state> rows, std::size_t limit) {
    std::sort(rows.begin(), rows.end(), [](const package_state& a, const package_state& b) {
        return a.updated_at != b.updated_at ? a.updated_at > b.updated_at : a.tracking_id > b.tracking_id;
    });
    package_page page;
    if (rows.size() > limit) {
        rows.resize(limit);
        page.next = package_cursor{rows.back().updated_at, rows.back().tracking_id};
    }
    page.packages = std::move(rows);
    return page;
}

}  // namespace dinex::core

#pragma once
// The operator listing's order, bound and cut (core::package_query), once for every store: a store
// reads the candidates from its own index, these put them in order and cut the page.
#include <cstddef>
#include <vector>

#include "core/model.hpp"

namespace dinex::core {

// True when `s` comes after the cursor in the listing (newest change first): (updated_at,
// tracking_id) is below the cursor's.
bool listed_after(const package_state& s, const package_cursor& c);

// One upper bound for both the cursor and the staleness of `q`: "updated_at < stale_before" is
// "(updated_at, tracking_id) < (stale_before, '')". No cursor and no staleness: above every package.
package_cursor listing_bound(const package_query& q);

// `rows` in listing order, the first `limit` of them; `next` is set when some were cut.
package_page listing_page(std::vector<package_state> rows, std::size_t limit);

}  // namespace dinex::core

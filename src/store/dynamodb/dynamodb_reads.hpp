#pragma once
// The DynamoDB store's reads (docs/DYNAMODB.md): a package with its history, the needs-attention
// listing over the status index, and the export's Scan. Stateless: the store forwards to these.
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ports.hpp"

namespace dinex::aws {
class dynamodb_client;
}

namespace dinex::store::dynamodb_reads {

// The package's state and its newest event items, newest first: "EVENT#..." sorts below "STATE"
// and above the "DEDUP#..." markers. Also the first read of every write.
boost::json::object newest_items_query(const std::string& table, std::string_view tracking_id,
                                       std::int64_t limit, bool consistent);

// One Query (more pages when hidden items leave it short); the state's `pending` events whose own
// items are not written yet are merged in their place.
core::result<std::optional<core::package>> read_package(aws::dynamodb_client& client,
                                                        const std::string& table,
                                                        std::string_view tracking_id, core::millis now,
                                                        std::size_t max_events, bool consistent);

// One Query of the status index per status (every status when none is given), merged.
core::result<core::package_page> list_packages(aws::dynamodb_client& client, const std::string& table,
                                               const core::package_query& q);

// A Scan of the state items, then each package's history (consistent reads); the cursor is the
// Scan's LastEvaluatedKey.
core::result<core::export_page> export_packages(aws::dynamodb_client& client, const std::string& table,
                                                std::string_view cursor, std::size_t limit, core::millis now);

}  // namespace dinex::store::dynamodb_reads

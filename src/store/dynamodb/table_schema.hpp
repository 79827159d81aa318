#pragma once
// The one definition of the DynamoDB table (docs/DYNAMODB.md describes it; Terraform must declare
// the same): keys, the sparse status index, TTL, billing, encryption.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace dinex::store::dynamodb_schema {

inline constexpr std::string_view partition_key = "tracking_id";  // S
inline constexpr std::string_view sort_key = "sk";                // S
inline constexpr std::string_view ttl_attribute = "expires_at";   // N, epoch seconds
inline constexpr std::string_view status_index = "status-updated-index";
inline constexpr std::string_view index_partition_key = "gsi_status";       // S, state items only
inline constexpr std::string_view index_sort_key = "gsi_updated_at";        // N, state items only
inline constexpr std::string_view stream_view_type = "NEW_AND_OLD_IMAGES";  // the stream for notifications

// CreateTable: PAY_PER_REQUEST, the two keys, the sparse GSI (projection ALL), SSE enabled, the
// stream (NEW_AND_OLD_IMAGES) that feeds the notifications.
boost::json::object create_table_request(const std::string& table);
// UpdateTimeToLive on `expires_at`.
boost::json::object update_ttl_request(const std::string& table);

}  // namespace dinex::store::dynamodb_schema

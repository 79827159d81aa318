#include "store/dynamodb/table_schema.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace dinex::store::dynamodb_schema {

namespace json = boost::json;

json::object create_table_request(const std::string& table) {
    const auto attr = [](std::string_view name, std::string_view type) {
        return json::object{{"AttributeName", name}, {"AttributeType", type}};
    };
    const auto key = [](std::string_view name, std::string_view type) {
        return json::object{{"AttributeName", name}, {"KeyType", type}};
    };
    return json::object{
        {"TableName", table},
        {"BillingMode", "PAY_PER_REQUEST"},
        {"AttributeDefinitions", json::array{attr(partition_key, "S"), attr(sort_key, "S"),
                                             attr(index_partition_key, "S"), attr(index_sort_key, "N")}},
        {"KeySchema", json::array{key(partition_key, "HASH"), key(sort_key, "RANGE")}},
        {"GlobalSecondaryIndexes",
         json::array{json::object{
             {"IndexName", status_index},
             {"KeySchema", json::array{key(index_partition_key, "HASH"), key(index_sort_key, "RANGE")}},
             {"Projection", json::object{{"ProjectionType", "ALL"}}},
         }}},
        {"SSESpecification", json::object{{"Enabled", true}}},
        // The stream feeds the notifications (docs/NOTIFICATIONS.md): both images, so the consumer
        // sees whether the state item's event_id changed.
        {"StreamSpecification", json::object{{"StreamEnabled", true}, {"StreamViewType", stream_view_type}}},
    };
}

json::object update_ttl_request(const std::string& table) {
    return json::object{
        {"TableName", table},
        {"TimeToLiveSpecification", json::object{{"Enabled", true}, {"AttributeName", ttl_attribute}}},
    };
}

}  // namespace dinex::store::dynamodb_schema

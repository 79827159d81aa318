#pragma once
// Maps a raw path to one of the service's routes, tolerating an API Gateway stage prefix
// ("/dev/tracking" is "/tracking" on stage "dev").
#include <string>
#include <string_view>

namespace dinex::api {

enum class route_id {
    health,
    tracking,
    tracking_batch,
    packages,
    metrics,
    web_page,
    web_asset,
    subscriptions,            // /subscriptions
    subscription,             // /subscriptions/{id}
    subscription_deliveries,  // /subscriptions/{id}/deliveries
    unmatched
};

struct route_match {
    route_id id = route_id::unmatched;
    std::string_view label = "unmatched";  // fixed text for logs and metrics
    std::string_view allow;                // methods, for 405 and OPTIONS
    std::string_view stage;                // the stage prefix, when one was stripped
    std::string_view asset;                // web_asset: the file name
    std::string_view resource;             // subscription routes: the {id} segment
};

route_match match_route(std::string_view path) noexcept;

}  // namespace dinex::api

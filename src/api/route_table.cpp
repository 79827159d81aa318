// The route table: every method of every route, who may call it, what body it takes, and its
// handler. application::handle and application::admit_body read it; nothing else decides routing.
#include <algorithm>

#include "api/application.hpp"

namespace dinex::api {

using core::action;
using body = application::body_rule;
using m = application::method_route;

std::span<const application::method_route> application::methods_of(route_id id) noexcept {
    static constexpr m health[] = {{"GET", {}, body::none, &application::serve_health}};
    static constexpr m tracking[] = {{"GET", action::lookup, body::none, &application::lookup},
                                     {"POST", action::record, body::json, &application::record}};
    static constexpr m batch[] = {{"POST", action::record, body::batch, &application::record_batch}};
    static constexpr m packages[] = {{"GET", action::list_packages, body::none, &application::list_packages}};
    static constexpr m metrics[] = {{"GET", action::read_metrics, body::none, &application::serve_metrics}};
    static constexpr m page[] = {{"GET", {}, body::none, &application::serve_page}};
    static constexpr m asset[] = {{"GET", {}, body::none, &application::serve_asset}};
    static constexpr m subscriptions[] = {
        {"GET", action::manage_webhooks, body::none, &application::list_subscriptions},
        {"POST", action::manage_webhooks, body::json, &application::create_subscription}};
    static constexpr m subscription[] = {
        {"GET", action::manage_webhooks, body::none, &application::show_subscription},
        {"PATCH", action::manage_webhooks, body::json, &application::update_subscription},
        {"DELETE", action::manage_webhooks, body::none, &application::delete_subscription}};
    static constexpr m deliveries[] = {
        {"GET", action::manage_webhooks, body::none, &application::list_deliveries}};
    switch (id) {
        case route_id::health: return health;
        case route_id::tracking: return tracking;
        case route_id::tracking_batch: return batch;
        case route_id::packages: return packages;
        case route_id::metrics: return metrics;
        case route_id::web_page: return page;
        case route_id::web_asset: return asset;
        case route_id::subscriptions: return subscriptions;
        case route_id::subscription: return subscription;
        case route_id::subscription_deliveries: return deliveries;
        case route_id::unmatched: break;
    }
    return {};
}

const application::method_route* application::find_method(route_id id, std::string_view method) noexcept {
    if (method == "HEAD") method = "GET";
    const auto methods = methods_of(id);
    const auto it =
        std::find_if(methods.begin(), methods.end(), [&](const m& r) { return r.method == method; });
    return it == methods.end() ? nullptr : &*it;
}

}  // namespace dinex::api

#pragma once
// The webhook subscription admin API of the local server (docs/NOTIFICATIONS.md):
//   POST   /subscriptions                   {"url", "statuses"?, "tracking_id"?} → 201, secret once
//   GET    /subscriptions                   every subscription (no secrets)
//   GET    /subscriptions/{id}
//   PATCH  /subscriptions/{id}              {"enabled": true|false}: re-enable after failures
//   DELETE /subscriptions/{id}              → 204; its pending deliveries are dropped
//   GET    /subscriptions/{id}/deliveries   ?limit=&cursor=: delivery history, newest first
// The caller (the route table) has already checked the method, the admin key and the body.
#include <optional>
#include <string_view>

#include "api/http.hpp"
#include "core/ports.hpp"
#include "core/webhooks.hpp"

namespace dinex::api {

struct subscription_settings {
    bool allow_private = false;  // receivers on loopback/private/link-local addresses
    std::size_t max_subscriptions = 100;
};

class subscription_api {
public:
    // `store` nullptr: the back-end has no outbox (DynamoDB on AWS, where SNS does this job).
    subscription_api(core::webhook_store* store, core::clock& clock, core::id_generator& ids,
                     subscription_settings settings);

    // The back-end keeps no outbox (DynamoDB on AWS, where SNS does this job): the 404 that says so.
    std::optional<core::error> unavailable() const;

    // Each fills `res` (status, JSON body) for one method of one route; `id` is the {id} segment.
    void list(const request& req, response& res);
    void create(const request& req, response& res);
    void show(const request& req, std::string_view id, response& res);
    void update(const request& req, std::string_view id, response& res);
    void remove(const request& req, std::string_view id, response& res);
    void deliveries(const request& req, std::string_view id, response& res);

private:
    core::webhook_store* store_;
    core::clock& clock_;
    core::id_generator& ids_;
    subscription_settings settings_;
};

}  // namespace dinex::api

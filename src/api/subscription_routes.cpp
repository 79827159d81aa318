// The webhook admin routes (/subscriptions…), answered by api::subscription_api.
#include "api/application.hpp"

namespace dinex::api {
namespace {

// A subscription_api member that fills a response, answered through `done`.
template <class Fill>
void answer(completion& done, Fill fill) {
    response res;
    fill(res);
    done(std::move(res));
}

}  // namespace

void application::list_subscriptions(request& req, const call&, completion done) {
    answer(done, [&](response& res) { subscriptions_->list(req, res); });
}

void application::create_subscription(request& req, const call&, completion done) {
    answer(done, [&](response& res) { subscriptions_->create(req, res); });
}

void application::show_subscription(request& req, const call& c, completion done) {
    answer(done, [&](response& res) { subscriptions_->show(req, c.route.resource, res); });
}

void application::update_subscription(request& req, const call& c, completion done) {
    answer(done, [&](response& res) { subscriptions_->update(req, c.route.resource, res); });
}

void application::delete_subscription(request& req, const call& c, completion done) {
    answer(done, [&](response& res) { subscriptions_->remove(req, c.route.resource, res); });
}

void application::list_deliveries(request& req, const call& c, completion done) {
    answer(done, [&](response& res) { subscriptions_->deliveries(req, c.route.resource, res); });
}

}  // namespace dinex::api

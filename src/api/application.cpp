#include "api/application.hpp"

#include <algorithm>

#include "api/route_support.hpp"
#include "core/text.hpp"

namespace dinex::api {

using core::errc;
using core::error;

application::application(core::tracking_service& service, app_config config, access_control access,
                         obs::registry* metrics, webhook_admin webhooks, core::event_sink* events)
    : service_(service),
      config_(std::move(config)),
      access_(access),
      cache_(config_.lookup_cache_entries),
      public_cache_(config_.lookup_cache_entries),
      metrics_(metrics),
      events_(events),
      rate_limited_("dinex_rate_limited_requests_total",
                    "Requests refused with 429 by the per-client rate limit, "
                    "by the client's role.",
                    {{"role", limited_roles}}) {
    if (metrics_) metrics_->add(rate_limited_);
    if (webhooks.ids)
        subscriptions_.emplace(webhooks.store, service_.clock_source(), *webhooks.ids, webhooks.settings);
}

application::~application() {
    if (metrics_) metrics_->remove(rate_limited_);
}

// One request through the route table: the route, OPTIONS, 404 and 405, who may call, the body's
// size and type, then the method's handler. Whatever answers, the completion adds the route label
// for logs and metrics, CORS and the rate-limit headers.
void application::handle(request req, completion done) {
    route_match route = match_route(req.path);
    // Metrics switched off (or no registry): /metrics is no route at all.
    if (route.id == route_id::metrics && (!metrics_ || config_.metrics == metrics_access::off)) route = {};
    std::vector<header> extra = cors_headers(req);
    auto reply = [&](response r) {
        r.route = route.label;
        for (auto& h : extra) r.headers.push_back(std::move(h));
        done(std::move(r));
    };
    if (route.id == route_id::unmatched) {
        return reply(error_response(
            error::field(errc::not_found, "no route for " + req.path, "path", "route"), req.request_id));
    }
    if (req.method == "OPTIONS") return reply(preflight(req, route));
    if (auto gone = unavailable(req, route)) return reply(error_response(*gone, req.request_id));
    const method_route* method = find_method(route.id, req.method);
    if (!method) {
        response r = error_response(method_not_allowed(route.allow), req.request_id);
        r.set_header("allow", std::string(route.allow));
        return reply(std::move(r));
    }
    admission a;
    if (method->needs == core::action::read_metrics) {
        a = admit_scrape(req);
    } else if (method->needs) {
        a = admit(req, *method->needs);
    } else {
        a.full_view = true;
    }
    if (a.refusal) return reply(std::move(*a.refusal));
    for (auto& h : a.limit_headers) extra.push_back(std::move(h));
    if (method->body != body_rule::none) {
        if (auto bad = body_problem(req, method->body)) return reply(error_response(*bad, req.request_id));
    }
    // Writes finish on the store's thread, after this frame is gone: the completion owns what it adds.
    completion answer = [label = route.label, extra = std::move(extra),
                         done = std::move(done)](response r) mutable {
        r.route = label;
        for (auto& h : extra) r.headers.push_back(std::move(h));
        done(std::move(r));
    };
    (this->*method->run)(req, call{route, a.full_view}, std::move(answer));
}

std::optional<error> application::unavailable(const request& req, const route_match& route) const {
    switch (route.id) {
        case route_id::subscriptions:
        case route_id::subscription:
        case route_id::subscription_deliveries:
            if (!subscriptions_)
                return error::field(errc::not_found, "no route for " + req.path, "path", "route");
            return subscriptions_->unavailable();
        default: return std::nullopt;
    }
}

body_admission application::admit_body(const request& head) {
    const route_match route = match_route(head.path);
    // What the route does with a body, and who may send one. A method that reads no body is held
    // to the anonymous limit whatever key it shows.
    const method_route* method = find_method(route.id, head.method);
    const std::size_t route_limit = method && method->body != body_rule::none
                                        ? body_limit(method->body)
                                        : config_.max_anonymous_body_bytes;
    body_admission out;
    if (!access_.keys) {
        out.max_bytes = route_limit;
        return out;
    }
    out.max_bytes = std::min(route_limit, config_.max_anonymous_body_bytes);
    auto refuse = [&](response r) {
        r.route = route.label;
        for (auto& h : cors_headers(head)) r.headers.push_back(std::move(h));
        out.refusal = std::move(r);
        return out;
    };
    auto v = verify_key(head, service_.now());
    if (v.refusal) return refuse(std::move(*v.refusal));
    // A key the route needs is asked for before the body is read (metrics' own rule is applied
    // with the request).
    if (method && method->needs && method->needs != core::action::read_metrics) {
        if (auto denied = core::authorize(v.who, *method->needs, config_.public_lookup)) {
            return refuse(detail::unauthenticated_response(*denied, head.request_id));
        }
    }
    if (v.who) out.max_bytes = route_limit;
    return out;
}

std::size_t application::body_limit(body_rule rule) const noexcept {
    return rule == body_rule::batch ? config_.max_batch_body_bytes : config_.max_body_bytes;
}

std::optional<error> application::body_problem(const request& req, body_rule rule) const {
    const std::size_t limit = body_limit(rule);
    if (req.body.size() > limit) {
        return error::field(errc::payload_too_large,
                            "the body is larger than " + std::to_string(limit) + " bytes", "body",
                            "max_bytes:" + std::to_string(limit));
    }
    return detail::check_content_type(req.header_value("content-type"));
}

response application::preflight(const request& req, const route_match& route) const {
    // CORS preflight (or a plain OPTIONS): say what the route allows.
    response res;
    res.status = 204;
    res.set_header("allow", std::string(route.allow));
    const std::string_view origin = req.header_value("origin");
    if (!origin.empty() && origin_allowed(origin) && req.has_header("access-control-request-method")) {
        res.set_header("access-control-allow-methods", std::string(route.allow));
        res.set_header("access-control-allow-headers",
                       "Content-Type, Authorization, X-Api-Key, Idempotency-Key, X-Request-Id");
        res.set_header("access-control-max-age", "600");
    }
    return res;
}

bool application::origin_allowed(std::string_view origin) const noexcept {
    for (const auto& o : config_.cors_origins) {
        if (o == "*" || o == origin) return true;
    }
    return false;
}

std::vector<header> application::cors_headers(const request& req) const {
    std::vector<header> out;
    const std::string_view origin = req.header_value("origin");
    if (origin.empty() || !origin_allowed(origin)) return out;
    const bool any = config_.cors_origins.size() == 1 && config_.cors_origins.front() == "*";
    out.push_back({"access-control-allow-origin", any ? "*" : std::string(origin)});
    if (!any) out.push_back({"vary", "Origin"});
    out.push_back({"access-control-expose-headers",
                   "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
                   "WWW-Authenticate"});
    return out;
}

}  // namespace dinex::api

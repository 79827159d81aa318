#pragma once
// The one entry point every front-end calls: Request in, Response out (through a completion,
// because durable writes finish on the store's writer thread).
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "api/lookup_cache.hpp"
#include "api/router.hpp"
#include "api/subscriptions.hpp"
#include "auth/authenticator.hpp"
#include "auth/limits.hpp"
#include "core/access.hpp"
#include "core/enum_names.hpp"
#include "core/event_sink.hpp"
#include "core/tracking_service.hpp"
#include "obs/metrics.hpp"

namespace dinex::api {

// Who may read GET /metrics: anyone; clients on the loopback interface or with an admin key (the
// default, as nginx's stub_status is usually opened to 127.0.0.1 alone); an admin key only; or
// nobody (404). Anonymous readers are held to the anonymous rate limit.
enum class metrics_access { open, loopback, admin, off };
std::optional<metrics_access> parse_metrics_access(std::string_view text) noexcept;

struct app_config {
    std::string version = "dev";
    // Named by GET /health, as the original did ("dev", "staging", "prod").
    std::string environment = "dev";
    // Origins allowed by CORS; "*" allows any. Empty: no CORS headers at all.
    std::vector<std::string> cors_origins = {"*"};
    std::size_t max_body_bytes = std::size_t{64} * 1024;
    // POST /tracking/batch: up to 500 events, so a larger body than one event needs.
    std::size_t max_batch_body_bytes = std::size_t{1024} * 1024;
    // Lookup answers kept in memory (0: off). Only for a store this process alone writes.
    std::size_t lookup_cache_entries = 0;
    // Anonymous GET /tracking allowed (with the public view: no notes, coarse coordinates).
    bool public_lookup = true;
    // What an anonymous lookup shows: false, the public view (limited); true, every field, as
    // the original did (full).
    bool public_full_view = false;
    // Rate and burst per role, when a rate limiter is given.
    auth::role_limits rate_limits{};
    metrics_access metrics = metrics_access::loopback;
    // The largest body read from a client that has not shown a valid key (any route): the
    // route's own limit applies only once the key is known good (docs/SECURITY.md).
    std::size_t max_anonymous_body_bytes = std::size_t{16} * 1024;
};

// What a request may send as its body, decided from its head alone: at most `max_bytes`, or
// nothing at all when `refusal` is set (answer it and close).
struct body_admission {
    std::size_t max_bytes = 0;
    std::optional<response> refusal;
};

// Authentication and rate limiting (docs/SECURITY.md). Without an authenticator every request is
// trusted (full view, no key needed): for unit tests of other concerns and embedding only; the
// CLI always wires one. Without a limiter there is no per-client limit.
struct access_control {
    auth::authenticator* keys = nullptr;
    core::rate_limiter* limiter = nullptr;
};

// The webhook admin API (/subscriptions…, admin key only). Without it those routes answer 404.
struct webhook_admin {
    core::webhook_store* store = nullptr;
    core::id_generator* ids = nullptr;
    subscription_settings settings{};
};

inline constexpr std::string_view www_authenticate = "Bearer realm=\"dinex-tracking\"";

// What an anonymous lookup shows (OWASP API1): every field, but no free-text notes and
// coordinates rounded to 2 decimals (about 1 km).
core::package public_view(core::package p);

// A JSON body with its content type, never cached.
void set_json(response& res, int status, std::string body);

// The first value of `name` in a raw query string, percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// The single table from the core's error codes to HTTP status codes.
int http_status(core::errc code) noexcept;

// 405 for a method a route does not serve (`allow`: the ones it does).
core::error method_not_allowed(std::string_view allow);

// A complete JSON error response (status, body, content type) for `e`, its internal message as
// the log note; `tracking_id` is echoed in the body when given (a 404 lookup, as the original).
response error_response(const core::error& e, std::string_view request_id, std::string_view tracking_id = {});

class application {
public:
    // `metrics`: the registry GET /metrics answers from; the application adds its own counter of
    // rate-limited requests to it. Without one, /metrics answers 404.
    // `events`: where each answered tracking event is reported (Prometheus or EMF), if anywhere.
    application(core::tracking_service& service, app_config config, access_control access = {},
                obs::registry* metrics = nullptr, webhook_admin webhooks = {},
                core::event_sink* events = nullptr);
    ~application();
    application(const application&) = delete;
    application& operator=(const application&) = delete;

    // Metric label values, indexed by role (entry 0: no key).
    static constexpr std::array<std::string_view, 4> limited_roles =
        core::names_of("anonymous", core::role_names);

    // `done` runs exactly once: on this thread (reads, errors), or for writes through
    // `req.resume` when the front-end gave one, else on the store's thread.
    void handle(request req, completion done);

    // Called by a front-end that reads bodies itself (the HTTP server) once the head of a request
    // with a body is in: how large a body this client may send on this route, or a refusal (a
    // missing, wrong or ambiguous key where one is needed) before any of it is read.
    body_admission admit_body(const request& head);

    // What a handler is given besides the request: the route it was matched to and what the
    // caller may see. Its completion adds the route label, CORS and rate-limit headers.
    struct call {
        const route_match& route;
        bool full_view = false;
    };
    using handler = void (application::*)(request& req, const call& c, completion done);

    // What a body on a route is held to before its handler sees it.
    enum class body_rule {
        none,   // the route reads no body (the anonymous limit applies to whatever is sent)
        json,   // a JSON document of at most max_body_bytes
        batch,  // a JSON document of at most max_batch_body_bytes
    };
    // One method of one route: who may call it, what body it takes, who answers it. GET serves
    // HEAD too. `needs` empty: anyone (health, the page).
    struct method_route {
        std::string_view method;
        std::optional<core::action> needs;
        body_rule body = body_rule::none;
        handler run = nullptr;
    };

    // The route table (route_table.cpp): the methods of `id`, empty for none.
    static std::span<const method_route> methods_of(route_id id) noexcept;
    static const method_route* find_method(route_id id, std::string_view method) noexcept;

private:
    // A route this process does not serve (metrics off, no webhook admin): its 404, if any.
    std::optional<core::error> unavailable(const request& req, const route_match& route) const;

    // Who is asking, whether they may, and their quota. `refusal` set: answer it and stop.
    struct admission {
        std::optional<core::principal> who;
        bool full_view = false;
        std::vector<header> limit_headers;
        std::optional<response> refusal;
    };
    admission admit(const request& req, core::action what);
    // GET /metrics: open to loopback (or everyone) as configured, charged to a scrape budget;
    // otherwise an admin key.
    admission admit_scrape(const request& req);
    std::optional<response> charge(const request& req, std::string_view client, const core::rate_limit& limit,
                                   core::millis now, std::vector<header>* headers, std::size_t role_index);
    // The key presented by `req` verified, with wrong keys charged to the client address's
    // budget; `refusal` set (401/429/503) when it does not verify.
    struct verified_key {
        std::optional<core::principal> who;
        std::optional<response> refusal;
    };
    verified_key verify_key(const request& req, core::millis now);
    std::size_t body_limit(body_rule rule) const noexcept;
    // Too large for the route, or not JSON: the checks every request body goes through first.
    std::optional<core::error> body_problem(const request& req, body_rule rule) const;
    response preflight(const request& req, const route_match& route) const;
    std::vector<header> cors_headers(const request& req) const;
    bool origin_allowed(std::string_view origin) const noexcept;

    // The handlers, one per method of a route (route_table.cpp lists them).
    void serve_health(request& req, const call& c, completion done);  // service_routes.cpp
    void serve_metrics(request& req, const call& c, completion done);
    void serve_page(request& req, const call& c, completion done);
    void serve_asset(request& req, const call& c, completion done);
    void lookup(request& req, const call& c, completion done);  // tracking_routes.cpp
    void record(request& req, const call& c, completion done);
    void record_batch(request& req, const call& c, completion done);
    void list_packages(request& req, const call& c, completion done);       // listing_routes.cpp
    void list_subscriptions(request& req, const call& c, completion done);  // subscription_routes.cpp
    void create_subscription(request& req, const call& c, completion done);
    void show_subscription(request& req, const call& c, completion done);
    void update_subscription(request& req, const call& c, completion done);
    void delete_subscription(request& req, const call& c, completion done);
    void list_deliveries(request& req, const call& c, completion done);

    void send_asset(const request& req, std::string_view name, completion done) const;
    // What every stored outcome does before it is answered: the lookup caches forget the package,
    // the event sink hears of it.
    void note_stored(const core::append_outcome& o);

    core::tracking_service& service_;
    app_config config_;
    access_control access_;
    std::optional<subscription_api> subscriptions_;
    lookup_cache cache_;
    lookup_cache public_cache_;  // the anonymous view, kept apart from the full one
    obs::registry* metrics_;
    core::event_sink* events_;
    obs::counter_family rate_limited_;  // dinex_rate_limited_requests_total{role}
};

}  // namespace dinex::api

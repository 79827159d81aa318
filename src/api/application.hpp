#pragma once
// The one entry point every front-end calls: Request in, Response out (through a completion,
// because durable writes finish on the store's writer thread).
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "api/lookup_cache.hpp"
#include "api/subscriptions.hpp"
#include "auth/authenticator.hpp"
#include "auth/limits.hpp"
#include "core/access.hpp"
#include "core/enum_names.hpp"
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
    std::size_t max_body_bytes = 64 * 1024;
    // POST /tracking/batch: up to 500 events, so a larger body than one event needs.
    std::size_t max_batch_body_bytes = 1024 * 1024;
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
    std::size_t max_anonymous_body_bytes = 16 * 1024;
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
    // `metrics`: the registry GET /metrics answers from; the application adds its own counters
    // (tracking events, rate-limited requests) to it. Without one, /metrics answers 404.
    application(core::tracking_service& service, app_config config, access_control access = {},
                obs::registry* metrics = nullptr, webhook_admin webhooks = {});
    ~application();
    application(const application&) = delete;
    application& operator=(const application&) = delete;

    // Metric label values, indexed by enumerator (entry 0 of limited_roles: no key).
    static constexpr std::array<std::string_view, 3> event_outcomes = core::names_of(core::outcome_names);
    static constexpr std::array<std::string_view, 4> limited_roles = core::names_of("anonymous", core::role_names);
    static constexpr std::array<std::string_view, 10> event_statuses = core::names_of(core::status_names);

    // `done` runs exactly once: on this thread (reads, errors), or for writes through
    // `req.resume` when the front-end gave one, else on the store's thread.
    void handle(request req, completion done);

    // Called by a front-end that reads bodies itself (the HTTP server) once the head of a request
    // with a body is in: how large a body this client may send on this route, or a refusal (a
    // missing, wrong or ambiguous key where one is needed) before any of it is read.
    body_admission admit_body(const request& head);

    const app_config& config() const noexcept { return config_; }

private:
    void handle_health(const request& req, response& res);
    // Who is asking, whether they may, and their quota. `refusal` set: answer it and stop.
    struct admission {
        std::optional<core::principal> who;
        bool full_view = false;
        std::vector<header> limit_headers;
        std::optional<response> refusal;
    };
    admission admit(const request& req, core::action what);
    std::optional<response> charge(const request& req, std::string_view client, const core::rate_limit& limit,
                                   core::millis now, std::vector<header>* headers, std::size_t role_index);
    void handle_metrics(const request& req, response& res);
    // The key presented by `req` verified, with wrong keys charged to the client address's
    // budget; `refusal` set (401/429/503) when it does not verify.
    struct verified_key {
        std::optional<core::principal> who;
        std::optional<response> refusal;
    };
    verified_key verify_key(const request& req, core::millis now);

    void handle_lookup(const request& req, response& res, bool full_view);
    void handle_record(request& req, response res, completion& done);
    // Too large, or not JSON: the checks every request body goes through first.
    std::optional<core::error> body_problem(const request& req) const;
    void handle_batch(request& req, response res, completion& done);
    void handle_list(const request& req, response& res);
    // What every stored outcome does before it is answered: the lookup caches forget the package,
    // the events metric counts it.
    void note_stored(const core::append_outcome& o);
    void handle_web(const request& req, std::string_view asset, response& res);
    std::vector<header> cors_headers(const request& req) const;
    // `done`, adding the CORS and rate-limit headers to whatever it is given.
    completion with_headers(const request& req, std::vector<header> limit_headers, completion done) const;
    bool origin_allowed(std::string_view origin) const noexcept;

    core::tracking_service& service_;
    app_config config_;
    access_control access_;
    std::optional<subscription_api> subscriptions_;
    lookup_cache cache_;
    lookup_cache public_cache_;  // the anonymous view, kept apart from the full one
    obs::registry* metrics_;
    obs::counter_family events_;        // dinex_tracking_events_total{status,outcome}
    obs::counter_family rate_limited_;  // dinex_rate_limited_requests_total{role}
};

}  // namespace dinex::api

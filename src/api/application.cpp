#include "api/application.hpp"

#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "api/cursor.hpp"
#include "api/json_codec.hpp"
#include "api/router.hpp"
#include "auth/api_key.hpp"
#include "core/text.hpp"
#include "web/assets.hpp"

namespace dinex::api {
namespace {

using core::errc;
using core::error;

constexpr std::string_view json_type = "application/json; charset=utf-8";
constexpr std::string_view page_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// The staff app's: the page's, plus its manifest and service worker from the same origin.
constexpr std::string_view staff_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// JSON bodies only. A missing Content-Type is accepted because the original clients (API
// Gateway in front of a handler that parsed any body) did not always send one.
std::optional<error> check_content_type(std::string_view value) {
    if (value.empty()) return std::nullopt;
    const auto semi = value.find(';');
    const std::string media = core::ascii_lower(core::trim_blanks(value.substr(0, semi)));
    const bool json = media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
    if (!json) {
        return error::field(errc::unsupported_media_type,
                            "Content-Type must be application/json, not " + media, "content-type",
                            "media_type:application/json");
    }
    if (semi != std::string_view::npos) {
        const std::string params = core::ascii_lower(value.substr(semi + 1));
        const auto cs = params.find("charset=");
        if (cs != std::string::npos) {
            std::string charset(core::trim_blanks(std::string_view(params).substr(cs + 8)));
            if (!charset.empty() && charset.front() == '"') charset = charset.substr(1, charset.find('"', 1) - 1);
            if (charset != "utf-8" && charset != "utf8") {
                return error::field(errc::unsupported_media_type,
                                    "the body must be UTF-8, not " + charset, "content-type",
                                    "charset:utf-8");
            }
        }
    }
    return std::nullopt;
}

// The access line's note for a write with fields the service ignored: their names (never values),
// for the operator who wants to know which clients send what.
std::string ignored_note_of(const std::vector<std::string>& ignored) {
    if (ignored.empty()) return {};
    std::string note = "ignored_fields:";
    for (std::size_t i = 0; i < ignored.size() && i < ignored_fields_listed; ++i) {
        if (i) note += ',';
        note += ignored[i];
    }
    return note;
}

// A 401 carries the scheme the client should use.
response unauthenticated_response(const error& e, std::string_view request_id) {
    response r = error_response(e, request_id);
    if (e.code == errc::unauthenticated) r.set_header("www-authenticate", std::string(www_authenticate));
    return r;
}

// The credential of a request. Two Authorization or two X-Api-Key fields are as ambiguous as two
// different keys: present but unusable, so refused (401) rather than the first one guessed at.
auth::presented_credential presented_credential_of(const request& req) {
    std::size_t bearer = 0;
    std::size_t api_key = 0;
    for (const auto& h : req.headers) {
        bearer += h.name == "authorization";
        api_key += h.name == "x-api-key";
    }
    if (bearer > 1 || api_key > 1) return {{}, true};
    return auth::credential_from(req.header_value("authorization"), req.header_value("x-api-key"));
}

bool is_loopback(std::string_view address) noexcept {
    return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

// A query key or value as meant: percent-decoded, '+' a space (HTML forms).
std::string decoded(boost::urls::pct_string_view s) {
    boost::urls::encoding_opts opt;
    opt.space_as_plus = true;
    return s.decode(opt);
}

// The store completes a write on its writer thread; the rest (encoding the answer, the
// front-end's completion) runs where the request came in, through request::resume, so the writer
// only commits. `build` turns the store's result into the answer; if it throws, the client gets
// a 500 rather than the process ending.
template <class Result, class Build>
auto answer_on_requester(const request& req, std::string_view route, completion done, Build build) {
    return [resume = req.resume, route, request_id = req.request_id, done = std::move(done),
            build = std::move(build)](Result r) mutable {
        task work = [route, request_id = std::move(request_id), done = std::move(done),
                     build = std::move(build), r = std::move(r)]() mutable {
            response res;
            try {
                res = build(std::move(r));
            } catch (const std::exception& e) {
                res = error_response(error::internal_error(e.what()), request_id);
                res.route = route;
            }
            done(std::move(res));
        };
        if (resume) {
            resume(std::move(work));
        } else {
            work();
        }
    };
}

// At most this many field errors are listed in one answer: a query of thousands of bare
// parameters would otherwise be answered with a body many times its size.
constexpr std::size_t max_listed_errors = 10;

}  // namespace

void set_json(response& res, int status, std::string body) {
    res.status = status;
    res.body = std::move(body);
    res.set_header("content-type", std::string(json_type));
    res.set_header("cache-control", "no-store");
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    auto params = boost::urls::parse_query(query);
    if (!params) return std::nullopt;
    for (const auto& p : *params) {
        if (decoded(p.key) == name) return p.has_value ? decoded(p.value) : std::string();
    }
    return std::nullopt;
}

int http_status(errc code) noexcept {
    switch (code) {
        case errc::invalid_argument: return 400;
        case errc::unprocessable: return 422;
        case errc::not_found: return 404;
        case errc::conflict: return 409;
        case errc::payload_too_large: return 413;
        case errc::unsupported_media_type: return 415;
        case errc::method_not_allowed: return 405;
        case errc::unavailable: return 503;
        case errc::internal: return 500;
        case errc::unauthenticated: return 401;
        case errc::permission_denied: return 403;
        case errc::resource_exhausted: return 429;
    }
    return 500;
}

core::error method_not_allowed(std::string_view allow) {
    // The original's words; the allowed methods are in `details` (and the Allow header).
    return error::field(errc::method_not_allowed, "Método no permitido", "method", "one_of:" + std::string(allow));
}

response error_response(const error& e, std::string_view request_id, std::string_view tracking_id) {
    response res;
    set_json(res, http_status(e.code), encode_error(e, request_id, tracking_id));
    if (e.code == errc::unavailable) res.set_header("retry-after", "1");
    // The cause for the operator: the internal message, or for a 5xx without one the message.
    if (!e.internal_message.empty()) {
        res.log_note = e.internal_message;
    } else if (res.status >= 500) {
        res.log_note = e.message;
    }
    return res;
}

core::package public_view(core::package p) {
    auto coarse = [](std::optional<core::position>& pos) {
        if (!pos) return;
        pos->latitude = std::round(pos->latitude * 100.0) / 100.0;
        pos->longitude = std::round(pos->longitude * 100.0) / 100.0;
    };
    p.state.notes.reset();
    coarse(p.state.coordinates);
    for (auto& e : p.events) {
        e.notes.reset();
        coarse(e.coordinates);
    }
    return p;
}

std::optional<metrics_access> parse_metrics_access(std::string_view text) noexcept {
    if (text == "public") return metrics_access::open;
    if (text == "loopback") return metrics_access::loopback;
    if (text == "admin") return metrics_access::admin;
    if (text == "off") return metrics_access::off;
    return std::nullopt;
}

application::application(core::tracking_service& service, app_config config, access_control access,
                         obs::registry* metrics, webhook_admin webhooks)
    : service_(service),
      config_(std::move(config)),
      access_(access),
      cache_(config_.lookup_cache_entries),
      public_cache_(config_.lookup_cache_entries),
      metrics_(metrics),
      events_("dinex_tracking_events_total",
              "Tracking events answered by POST /tracking: created (new current state), late_arrival (history "
              "only) or replay (already stored), by the event's status.",
              {{"status", event_statuses}, {"outcome", event_outcomes}}),
      rate_limited_("dinex_rate_limited_requests_total", "Requests refused with 429 by the per-client rate limit, "
                    "by the client's role.",
                    {{"role", limited_roles}}) {
    if (metrics_) {
        metrics_->add(events_);
        metrics_->add(rate_limited_);
    }
    if (webhooks.ids) subscriptions_.emplace(webhooks.store, service_.clock_source(), *webhooks.ids, webhooks.settings);
}

application::~application() {
    if (metrics_) {
        metrics_->remove(events_);
        metrics_->remove(rate_limited_);
    }
}

std::optional<response> application::charge(const request& req, std::string_view client,
                                             const core::rate_limit& limit, core::millis now,
                                             std::vector<header>* headers, std::size_t role_index) {
    if (!access_.limiter || limit.unlimited()) return std::nullopt;
    auto d = access_.limiter->acquire(client, limit, now);
    // A limiter that cannot answer (its table is down) lets the request through: the route-wide
    // throttle still holds, and refusing every client would turn an outage of the counter into an
    // outage of the service.
    if (!d) return std::nullopt;
    auto secs = [](core::millis ms) { return std::to_string(std::max<core::millis>(0, (ms + 999) / 1000)); };
    std::vector<header> h = {{"ratelimit-limit", std::to_string(d->limit)},
                             {"ratelimit-remaining", std::to_string(d->remaining)},
                             {"ratelimit-reset", secs(d->reset_after)}};
    if (d->allowed) {
        if (headers) *headers = std::move(h);
        return std::nullopt;
    }
    rate_limited_.inc(rate_limited_.slot({role_index}));
    const std::string retry = std::to_string(std::max<core::millis>(1, (d->retry_after + 999) / 1000));
    response r = error_response(error::make(errc::resource_exhausted,
                                            "too many requests; retry in " + retry + " s"),
                                req.request_id);
    for (auto& x : h) r.headers.push_back(std::move(x));
    r.set_header("retry-after", retry);
    return r;
}

application::admission application::admit(const request& req, core::action what) {
    admission a;
    const core::millis now = service_.now();
    std::string ip_client = "ip:";
    ip_client.append(req.remote_address);
    if (!access_.keys) {
        a.full_view = true;
        a.refusal = charge(req, ip_client, config_.rate_limits.anonymous, now, &a.limit_headers, 0);
        return a;
    }
    auto v = verify_key(req, now);
    if (v.refusal) {
        a.refusal = std::move(v.refusal);
        return a;
    }
    a.who = std::move(v.who);
    std::string client = ip_client;
    if (a.who) client = std::string("key:").append(a.who->key_id);
    // Role positions in limited_roles: anonymous first, then core::role's order.
    const std::size_t role_index = a.who ? 1 + static_cast<std::size_t>(a.who->key_role) : 0;
    if ((a.refusal = charge(req, client, config_.rate_limits.of(a.who), now, &a.limit_headers, role_index))) return a;
    if (auto denied = core::authorize(a.who, what, config_.public_lookup)) {
        a.refusal = unauthenticated_response(*denied, req.request_id);
        for (auto& h : a.limit_headers) a.refusal->headers.push_back(h);
        return a;
    }
    a.full_view = a.who.has_value() || config_.public_full_view;
    return a;
}

application::verified_key application::verify_key(const request& req, core::millis now) {
    verified_key out;
    const auto cred = presented_credential_of(req);
    if (!cred.present) return out;
    if (auto who = access_.keys->known_good(cred.key, now)) {
        out.who = std::move(*who);
        return out;
    }
    // A key this process has not just seen verify costs its address: a store read when its id is
    // not cached, a guess at the secret when it is. Each address has a budget of those (the
    // anonymous rate, in a bucket of its own), so neither guessing keys nor guessing the secret of
    // a known key id is free, and the 429 comes before the check, telling the guesser nothing;
    // a real client pays once per key per cache period and never notices.
    std::string verify_client = "verify:";
    verify_client.append(req.remote_address);
    if ((out.refusal = charge(req, verify_client, config_.rate_limits.anonymous, now, nullptr, 0)))
        return out;
    auto who = access_.keys->verify(cred.key, now);
    if (!who) {
        out.refusal = unauthenticated_response(who.error(), req.request_id);
        return out;
    }
    out.who = std::move(*who);
    return out;
}

body_admission application::admit_body(const request& head) {
    const route_match route = match_route(head.path);
    const bool post = head.method == "POST";
    const bool post_or_patch = post || head.method == "PATCH";
    // What the route does with a body, and who may send one. Every other route reads no body.
    std::size_t route_limit = config_.max_anonymous_body_bytes;
    std::optional<core::action> needs;
    switch (route.id) {
        case route_id::tracking:
            if (post) {
                route_limit = config_.max_body_bytes;
                needs = core::action::record;
            }
            break;
        case route_id::tracking_batch:
            if (post) {
                route_limit = config_.max_batch_body_bytes;
                needs = core::action::record;
            }
            break;
        case route_id::subscriptions:
        case route_id::subscription:
        case route_id::subscription_deliveries:
            if (post_or_patch) route_limit = config_.max_body_bytes;
            needs = core::action::manage_webhooks;
            break;
        default: break;
    }
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
    if (needs) {
        if (auto denied = core::authorize(v.who, *needs, config_.public_lookup)) {
            return refuse(unauthenticated_response(*denied, head.request_id));
        }
    }
    if (v.who) out.max_bytes = route_limit;
    return out;
}

completion application::with_headers(const request& req, std::vector<header> limit_headers, completion done) const {
    // Writes finish on the store's thread, after `req` is gone: the CORS headers are computed now.
    auto extra = cors_headers(req);
    for (auto& h : limit_headers) extra.push_back(std::move(h));
    return [extra = std::move(extra), done = std::move(done)](response r) mutable {
        for (auto& h : extra) r.headers.push_back(std::move(h));
        done(std::move(r));
    };
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
                   "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, WWW-Authenticate"});
    return out;
}

void application::handle(request req, completion done) {
    route_match route = match_route(req.path);
    // Metrics switched off (or no registry): /metrics is no route at all.
    if (route.id == route_id::metrics && (!metrics_ || config_.metrics == metrics_access::off)) route = {};
    response res;
    res.route = route.label;

    auto finish = [&](response r) {
        for (auto& h : cors_headers(req)) r.headers.push_back(std::move(h));
        done(std::move(r));
    };

    if (route.id == route_id::unmatched) {
        response r = error_response(error::field(errc::not_found, "no route for " + req.path, "path", "route"),
                                    req.request_id);
        r.route = route.label;
        return finish(std::move(r));
    }

    if (req.method == "OPTIONS") {
        // CORS preflight (or a plain OPTIONS): say what the route allows.
        res.status = 204;
        res.set_header("allow", std::string(route.allow));
        const std::string_view origin = req.header_value("origin");
        if (!origin.empty() && origin_allowed(origin) && req.has_header("access-control-request-method")) {
            res.set_header("access-control-allow-methods", std::string(route.allow));
            res.set_header("access-control-allow-headers",
                           "Content-Type, Authorization, X-Api-Key, Idempotency-Key, X-Request-Id");
            res.set_header("access-control-max-age", "600");
        }
        return finish(std::move(res));
    }

    const bool is_get = req.method == "GET" || req.method == "HEAD";
    switch (route.id) {
        case route_id::health:
            if (!is_get) break;
            handle_health(req, res);
            return finish(std::move(res));
        case route_id::tracking: {
            if (!is_get && req.method != "POST") break;
            admission a = admit(req, is_get ? core::action::lookup : core::action::record);
            if (a.refusal) {
                a.refusal->route = route.label;
                return finish(std::move(*a.refusal));
            }
            if (is_get) {
                handle_lookup(req, res, a.full_view);
                for (auto& h : a.limit_headers) res.headers.push_back(std::move(h));
                return finish(std::move(res));
            }
            completion wrapped = with_headers(req, std::move(a.limit_headers), std::move(done));
            return handle_record(req, std::move(res), wrapped);
        }
        case route_id::tracking_batch: {
            if (req.method != "POST") break;
            admission a = admit(req, core::action::record);
            if (a.refusal) {
                a.refusal->route = route.label;
                return finish(std::move(*a.refusal));
            }
            completion wrapped = with_headers(req, std::move(a.limit_headers), std::move(done));
            return handle_batch(req, std::move(res), wrapped);
        }
        case route_id::packages: {
            if (!is_get) break;
            admission a = admit(req, core::action::list_packages);
            if (a.refusal) {
                a.refusal->route = route.label;
                return finish(std::move(*a.refusal));
            }
            handle_list(req, res);
            for (auto& h : a.limit_headers) res.headers.push_back(std::move(h));
            return finish(std::move(res));
        }
        case route_id::metrics: {
            if (!is_get) break;
            const bool open =
                config_.metrics == metrics_access::open ||
                (config_.metrics == metrics_access::loopback && is_loopback(req.remote_address));
            if (open) {
                // Open, but not free: 19 KB an answer is worth the anonymous rate, in a bucket of its
                // own so an address's API traffic and its scrapes never starve each other.
                std::string scraper = "metrics:";
                scraper.append(req.remote_address);
                if (auto refused =
                        charge(req, scraper, config_.rate_limits.anonymous, service_.now(), nullptr, 0)) {
                    refused->route = route.label;
                    return finish(std::move(*refused));
                }
            } else {
                admission a = admit(req, core::action::read_metrics);
                if (a.refusal) {
                    a.refusal->route = route.label;
                    return finish(std::move(*a.refusal));
                }
            }
            handle_metrics(req, res);
            return finish(std::move(res));
        }
        case route_id::subscriptions:
        case route_id::subscription:
        case route_id::subscription_deliveries: {
            if (!subscriptions_) {
                response r = error_response(error::field(errc::not_found, "no route for " + req.path, "path", "route"),
                                            req.request_id);
                r.route = route.label;
                return finish(std::move(r));
            }
            admission a = admit(req, core::action::manage_webhooks);
            if (a.refusal) {
                a.refusal->route = route.label;
                return finish(std::move(*a.refusal));
            }
            const bool has_body = req.method == "POST" || req.method == "PATCH";
            if (auto bad = has_body ? body_problem(req) : std::nullopt) {
                res = error_response(*bad, req.request_id);
                res.route = route.label;
            } else {
                subscriptions_->handle(req, route, res);
            }
            for (auto& h : a.limit_headers) res.headers.push_back(std::move(h));
            return finish(std::move(res));
        }
        case route_id::web_page:
            if (!is_get) break;
            handle_web(req, "index.html", res);
            return finish(std::move(res));
        case route_id::web_asset:
            if (!is_get) break;
            handle_web(req, route.asset, res);
            return finish(std::move(res));
        case route_id::unmatched: break;
    }
    response r = error_response(method_not_allowed(route.allow), req.request_id);
    r.route = route.label;
    r.set_header("allow", std::string(route.allow));
    finish(std::move(r));
}

void application::handle_health(const request& req, response& res) {
    (void)req;
    health_report h;
    h.environment = config_.environment;
    h.timestamp = service_.now();
    h.version = config_.version;
    h.store = service_.backing_store().backend_name();
    if (auto ok = service_.backing_store().ping(); !ok) {
        h.healthy = false;
        h.error = ok.error().message;
        set_json(res, 503, encode_health(h));
        res.set_header("retry-after", "5");
        res.log_note = ok.error().internal_message.empty() ? ok.error().message : ok.error().internal_message;
        return;
    }
    set_json(res, 200, encode_health(h));
}

void application::handle_metrics(const request& req, response& res) {
    (void)req;
    res.status = 200;
    res.body = obs::write_prometheus(metrics_->collect());
    res.set_header("content-type", std::string(obs::prometheus_content_type));
    res.set_header("cache-control", "no-store");
}

void application::handle_lookup(const request& req, response& res, bool full_view) {
    const auto id = query_param(req.query, "tracking_id");
    if (!id) {
        const auto route = res.route;
        res = error_response(error::field(errc::invalid_argument, std::string(core::tracking_id_required),
                                          "tracking_id", "required"),
                             req.request_id);
        res.route = route;
        return;
    }
    auto normalized = core::normalize_tracking_id(*id);
    if (!normalized) {
        const auto route = res.route;
        res = error_response(normalized.error(), req.request_id);
        res.route = route;
        return;
    }
    lookup_cache& cache = full_view ? cache_ : public_cache_;
    if (auto cached = cache.get(*normalized, service_.now())) {
        set_json(res, 200, std::move(*cached));
        return;
    }
    const auto ticket = cache.begin(*normalized);
    auto found = service_.track(*normalized);
    if (!found) {
        const auto route = res.route;
        res = error_response(found.error(), req.request_id,
                             found.error().code == errc::not_found ? std::string_view(*normalized) : std::string_view());
        res.route = route;
        return;
    }
    const core::millis expires_at = found->state.expires_at;
    std::string body = encode_package(full_view ? *found : public_view(std::move(*found)));
    if (cache.enabled()) cache.put(ticket, *normalized, body, expires_at);
    set_json(res, 200, std::move(body));
}

std::optional<error> application::body_problem(const request& req) const {
    if (req.body.size() > config_.max_body_bytes) {
        return error::field(errc::payload_too_large,
                            "the body is larger than " + std::to_string(config_.max_body_bytes) + " bytes", "body",
                            "max_bytes:" + std::to_string(config_.max_body_bytes));
    }
    return check_content_type(req.header_value("content-type"));
}

void application::handle_record(request& req, response res, completion& done) {
    const auto route = res.route;
    auto reject = [&](const error& e) {
        response r = error_response(e, req.request_id);
        r.route = route;
        done(std::move(r));
    };
    if (auto bad = body_problem(req)) return reject(*bad);

    auto input = decode_event_input(req.body);
    if (!input) return reject(input.error());
    // Ignored fields are named in the answer, and for the operator on the log line.
    std::string ignored_note = ignored_note_of(input->ignored_fields);

    const std::string_view key = core::trim_blanks(req.header_value("idempotency-key"));
    if (!key.empty()) {
        if (input->event_id && *input->event_id != key) {
            return reject(error::field(errc::invalid_argument,
                                       "event_id and the Idempotency-Key header differ", "event_id",
                                       "equals:Idempotency-Key"));
        }
        input->event_id = std::string(key);
    }

    service_.record(
        *input, answer_on_requester<core::result<core::append_outcome>>(
                    req, route, std::move(done),
                    [this, route, request_id = req.request_id, note = note_of(*input),
                     ignored_note = std::move(ignored_note)](core::result<core::append_outcome> r) mutable {
                        if (!r) {
                            response er = error_response(r.error(), request_id);
                            er.route = route;
                            if (er.log_note.empty()) er.log_note = std::move(ignored_note);
                            return er;
                        }
                        note_stored(*r);
                        response ok;
                        ok.route = route;
                        ok.log_note = std::move(ignored_note);
                        set_json(ok, r->kind == core::outcome_kind::replay ? 200 : 201, encode_append(*r, note));
                        ok.set_header("location", "/tracking?tracking_id=" + r->stored.tracking_id);
                        return ok;
                    }));
}

void application::note_stored(const core::append_outcome& o) {
    // After the commit, before the client hears of it: nobody reads older data than they wrote.
    if (o.kind != core::outcome_kind::replay) {
        cache_.invalidate(o.stored.tracking_id);
        public_cache_.invalidate(o.stored.tracking_id);
    }
    events_.inc(events_.slot({static_cast<std::size_t>(o.stored.state), static_cast<std::size_t>(o.kind)}));
}

void application::handle_batch(request& req, response res, completion& done) {
    const auto route = res.route;
    auto reject = [&](const error& e) {
        response r = error_response(e, req.request_id);
        r.route = route;
        done(std::move(r));
    };
    if (req.body.size() > config_.max_batch_body_bytes) {
        return reject(error::field(errc::payload_too_large,
                                   "the body is larger than " + std::to_string(config_.max_batch_body_bytes) + " bytes",
                                   "body", "max_bytes:" + std::to_string(config_.max_batch_body_bytes)));
    }
    if (auto bad = check_content_type(req.header_value("content-type"))) return reject(*bad);
    // One key cannot name several events: each item carries its own event_id.
    if (!core::trim_blanks(req.header_value("idempotency-key")).empty()) {
        return reject(error::field(errc::invalid_argument,
                                   "Idempotency-Key does not apply to a batch; give each event its event_id",
                                   "idempotency-key", "not_allowed"));
    }
    auto decoded = decode_batch(req.body);
    if (!decoded) return reject(decoded.error());

    // Items that failed to decode keep their error; the others go through validation and the
    // store together, and their answers are put back in place.
    std::vector<core::result<core::append_outcome>> results;
    results.reserve(decoded->items.size());
    std::vector<write_note> notes(decoded->items.size());
    std::vector<std::string> ignored = decoded->ignored_fields;
    std::vector<core::event_input> inputs;
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < decoded->items.size(); ++i) {
        auto& item = decoded->items[i];
        if (item) {
            notes[i] = note_of(*item);
            for (auto& name : item->ignored_fields) ignored.push_back(std::move(name));
            inputs.push_back(std::move(*item));
            positions.push_back(i);
            results.emplace_back(core::fail(error::internal_error("not applied")));
        } else {
            results.emplace_back(core::fail(std::move(item.error())));
        }
    }
    auto answer = answer_on_requester<std::vector<core::result<core::append_outcome>>>(
        req, route, std::move(done),
        [this, route, results = std::move(results), positions = std::move(positions),
         ignored_here = std::move(decoded->ignored_fields), notes = std::move(notes),
         ignored_note = ignored_note_of(ignored)](std::vector<core::result<core::append_outcome>> stored) mutable {
            for (std::size_t k = 0; k < stored.size() && k < positions.size(); ++k) {
                results[positions[k]] = std::move(stored[k]);
            }
            for (const auto& r : results) {
                if (r) note_stored(*r);
            }
            response ok;
            ok.route = route;
            ok.log_note = std::move(ignored_note);
            set_json(ok, 200, encode_batch(results, ignored_here, notes, &http_status));
            return ok;
        });
    if (inputs.empty()) return answer({});
    service_.record_batch(inputs, std::move(answer));
}

void application::handle_list(const request& req, response& res) {
    const auto route = res.route;
    auto reject = [&](const error& e) {
        res = error_response(e, req.request_id);
        res.route = route;
    };
    core::package_query q;
    q.limit = core::limits::list_default;
    std::vector<core::field_error> errors;
    const auto number = [&](std::string_view name, std::string_view text, long long lo, long long hi) -> std::optional<long long> {
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi) {
            errors.push_back({std::string(name), "range:" + std::to_string(lo) + ".." + std::to_string(hi)});
            return std::nullopt;
        }
        return v;
    };
    std::optional<long long> stale_hours;
    auto params = boost::urls::parse_query(req.query);
    if (!params) return reject(error::field(errc::invalid_argument, "the query string is malformed", "query", "format"));
    for (const auto& p : *params) {
        const std::string key = decoded(p.key);
        const std::string value = decoded(p.value);
        if (key == "status") {
            for (const auto item : core::split_list(value)) {
                std::string upper(item);
                for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
                const auto st = core::parse_status(upper);
                if (!st) {
                    errors.push_back({"status", "one_of:" + core::status_list()});
                    break;
                }
                if (std::find(q.statuses.begin(), q.statuses.end(), *st) == q.statuses.end()) q.statuses.push_back(*st);
            }
            if (q.statuses.empty() && (errors.empty() || errors.back().field != "status")) {
                errors.push_back({"status", "not_empty"});
            }
        } else if (key == "stale_hours") {
            stale_hours = number("stale_hours", value, 1, 8760);
        } else if (key == "limit") {
            if (auto v = number("limit", value, 1, static_cast<long long>(core::limits::list_max))) {
                q.limit = static_cast<std::size_t>(*v);
            }
        } else if (key == "cursor") {
            q.after = decode_cursor(value);
            if (!q.after) errors.push_back({"cursor", "opaque:from_next_cursor"});
        } else {
            errors.push_back({key, "unknown_parameter"});
        }
    }
    if (!errors.empty()) {
        std::string msg = "the listing query is invalid: ";
        const std::size_t listed = std::min(errors.size(), max_listed_errors);
        for (std::size_t i = 0; i < listed; ++i) {
            if (i) msg += ", ";
            msg += errors[i].field + " (" + errors[i].rule + ")";
        }
        if (errors.size() > listed) {
            msg += " and " + std::to_string(errors.size() - listed) + " more";
            errors.resize(listed);
        }
        return reject(error::make(errc::invalid_argument, std::move(msg), std::move(errors)));
    }
    if (stale_hours) q.stale_before = service_.now() - *stale_hours * 3'600'000LL;
    auto page = service_.list_packages(std::move(q));
    if (!page) return reject(page.error());
    const std::string next = page->next ? encode_cursor(*page->next) : std::string();
    set_json(res, 200, encode_package_page(*page, next));
}

void application::handle_web(const request& req, std::string_view name, response& res) {
    const auto asset = web::find_asset(name);
    if (!asset) {
        const auto route = res.route;
        res = error_response(error::field(errc::not_found, "no such file", "path", "route"), req.request_id);
        res.route = route;
        return;
    }
    res.set_header("etag", std::string(asset->etag));
    res.set_header("x-content-type-options", "nosniff");
    const bool staff = name.starts_with("staff/");
    if (name.ends_with(".html")) {
        res.set_header("content-security-policy", std::string(staff ? staff_csp : page_csp));
        res.set_header("referrer-policy", "no-referrer");
        res.set_header("x-frame-options", "DENY");
        res.set_header("cache-control", "no-cache");
    } else if (name == "staff/sw.js") {
        // A worker runs under its own script's CSP; and a stale copy would keep an old app alive.
        res.set_header("content-security-policy", std::string(staff_csp));
        res.set_header("cache-control", "no-cache");
    } else {
        res.set_header("cache-control", "public, max-age=300");
    }
    if (req.header_value("if-none-match") == asset->etag) {
        res.status = 304;
        return;
    }
    res.status = 200;
    res.set_header("content-type", std::string(asset->content_type));
    res.body = std::string(asset->body);
}

}  // namespace dinex::api

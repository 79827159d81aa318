// Who is asking and whether they may: API keys, roles and the per-client rate limits
// (docs/SECURITY.md), applied by the route table's dispatch before any handler runs.
#include <algorithm>

#include "api/application.hpp"
#include "api/route_support.hpp"
#include "auth/api_key.hpp"

namespace dinex::api {
namespace {

using core::errc;
using core::error;

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

}  // namespace

namespace detail {

response unauthenticated_response(const error& e, std::string_view request_id) {
    response r = error_response(e, request_id);
    if (e.code == errc::unauthenticated) r.set_header("www-authenticate", std::string(www_authenticate));
    return r;
}

}  // namespace detail

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
    response r = error_response(
        error::make(errc::resource_exhausted, "too many requests; retry in " + retry + " s"), req.request_id);
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
    if ((a.refusal = charge(req, client, config_.rate_limits.of(a.who), now, &a.limit_headers, role_index)))
        return a;
    if (auto denied = core::authorize(a.who, what, config_.public_lookup)) {
        a.refusal = detail::unauthenticated_response(*denied, req.request_id);
        for (auto& h : a.limit_headers) a.refusal->headers.push_back(h);
        return a;
    }
    a.full_view = a.who.has_value() || config_.public_full_view;
    return a;
}

application::admission application::admit_scrape(const request& req) {
    const bool open = config_.metrics == metrics_access::open ||
                      (config_.metrics == metrics_access::loopback && is_loopback(req.remote_address));
    admission a;
    if (open) {
        // Open, but not free: 19 KB an answer is worth the anonymous rate, in a bucket of its own so
        // an address's API traffic and its scrapes never starve each other.
        std::string scraper = "metrics:";
        scraper.append(req.remote_address);
        a.refusal = charge(req, scraper, config_.rate_limits.anonymous, service_.now(), nullptr, 0);
    } else {
        a = admit(req, core::action::read_metrics);
    }
    // A scrape answer carries no rate-limit headers: Prometheus reads none.
    a.limit_headers.clear();
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
        out.refusal = detail::unauthenticated_response(who.error(), req.request_id);
        return out;
    }
    out.who = std::move(*who);
    return out;
}

}  // namespace dinex::api

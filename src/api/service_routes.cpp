// The routes around the API: /health, /metrics, the tracking page, the staff app and their files.
#include "api/application.hpp"
#include "api/json_codec.hpp"
#include "api/route_support.hpp"
#include "web/assets.hpp"

namespace dinex::api {
namespace {

constexpr std::string_view page_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// The staff app's: the page's, plus its manifest and service worker from the same origin.
constexpr std::string_view staff_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

}  // namespace

void application::serve_health(request&, const call&, completion done) {
    health_report h;
    h.environment = config_.environment;
    h.timestamp = service_.now();
    h.version = config_.version;
    h.store = service_.backing_store().backend_name();
    response res;
    if (auto ok = service_.backing_store().ping(); !ok) {
        h.healthy = false;
        h.error = ok.error().message;
        set_json(res, 503, encode_health(h));
        res.set_header("retry-after", "5");
        res.log_note = ok.error().internal_message.empty() ? ok.error().message : ok.error().internal_message;
        return done(std::move(res));
    }
    set_json(res, 200, encode_health(h));
    done(std::move(res));
}

void application::serve_metrics(request&, const call&, completion done) {
    response res;
    res.status = 200;
    res.body = obs::write_prometheus(metrics_->collect());
    res.set_header("content-type", std::string(obs::prometheus_content_type));
    res.set_header("cache-control", "no-store");
    done(std::move(res));
}

void application::serve_page(request& req, const call&, completion done) {
    send_asset(req, "index.html", std::move(done));
}

void application::serve_asset(request& req, const call& c, completion done) {
    send_asset(req, c.route.asset, std::move(done));
}

void application::send_asset(const request& req, std::string_view name, completion done) const {
    const auto asset = web::find_asset(name);
    if (!asset) {
        return done(error_response(core::error::field(core::errc::not_found, "no such file", "path", "route"),
                                   req.request_id));
    }
    response res;
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
        return done(std::move(res));
    }
    res.status = 200;
    res.set_header("content-type", std::string(asset->content_type));
    res.body = std::string(asset->body);
    done(std::move(res));
}

}  // namespace dinex::api

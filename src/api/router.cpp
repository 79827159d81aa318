#include "api/router.hpp"

#include "core/text.hpp"

namespace dinex::api {
namespace {

// A file of web/ (no leading dot: no hidden files, no "..").
bool is_asset_name(std::string_view s) noexcept {
    return core::is_plain_token(s, 64, "-_.") && s.front() != '.';
}

bool is_stage_name(std::string_view s) noexcept { return core::is_plain_token(s, 128, "-_"); }

// Subscription ids are ULIDs; anything of that alphabet and a sane length reaches the handler,
// which answers 404 for an unknown one.
bool is_id_segment(std::string_view s) noexcept { return core::is_plain_token(s, 64, "-_"); }

route_match match_subscriptions(std::string_view rest) noexcept {
    // rest: what follows "/subscriptions"
    if (rest.empty())
        return {route_id::subscriptions, "/subscriptions", "GET, HEAD, POST, OPTIONS", {}, {}, {}};
    if (rest.front() != '/') return {};
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    const std::string_view id = rest.substr(0, slash);
    if (!is_id_segment(id)) return {};
    if (slash == std::string_view::npos) {
        return {
            route_id::subscription, "/subscriptions/{id}", "GET, HEAD, PATCH, DELETE, OPTIONS", {}, {}, id};
    }
    if (rest.substr(slash) == "/deliveries") {
        return {route_id::subscription_deliveries,
                "/subscriptions/{id}/deliveries",
                "GET, HEAD, OPTIONS",
                {},
                {},
                id};
    }
    return {};
}

route_match match_exact(std::string_view path) noexcept {
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    if (path == "/tracking") return {route_id::tracking, "/tracking", "GET, HEAD, POST, OPTIONS", {}, {}, {}};
    if (path == "/tracking/batch")
        return {route_id::tracking_batch, "/tracking/batch", "POST, OPTIONS", {}, {}, {}};
    if (path == "/packages") return {route_id::packages, "/packages", "GET, HEAD, OPTIONS", {}, {}, {}};
    if (path == "/health") return {route_id::health, "/health", "GET, HEAD, OPTIONS", {}, {}, {}};
    if (path == "/metrics") return {route_id::metrics, "/metrics", "GET, HEAD, OPTIONS", {}, {}, {}};
    if (path == "/" || path == "/index.html")
        return {route_id::web_page, "/", "GET, HEAD, OPTIONS", {}, {}, {}};
    constexpr std::string_view subscriptions = "/subscriptions";
    if (path.starts_with(subscriptions)) return match_subscriptions(path.substr(subscriptions.size()));
    constexpr std::string_view assets = "/assets/";
    if (path.starts_with(assets) && is_asset_name(path.substr(assets.size()))) {
        return {route_id::web_asset, "/assets", "GET, HEAD, OPTIONS", {}, path.substr(assets.size()), {}};
    }
    // The staff app: "/staff/" is its page, "/staff/<file>" its files (web/staff/), kept apart from
    // /assets/ so the service worker's scope is the app alone.
    if (path == "/staff")
        return {route_id::web_asset, "/staff", "GET, HEAD, OPTIONS", {}, "staff/index.html", {}};
    constexpr std::string_view staff = "/staff/";
    if (path.starts_with(staff) && is_asset_name(path.substr(staff.size()))) {
        return {route_id::web_asset, "/staff", "GET, HEAD, OPTIONS", {}, path.substr(1), {}};
    }
    return {};
}

}  // namespace

route_match match_route(std::string_view path) noexcept {
    if (auto m = match_exact(path); m.id != route_id::unmatched) return m;
    // "/<stage>/<route>": API Gateway passes the stage in rawPath.
    if (path.size() < 2 || path.front() != '/') return {};
    const auto slash = path.find('/', 1);
    if (slash == std::string_view::npos) return {};
    const std::string_view stage = path.substr(1, slash - 1);
    const std::string_view rest = path.substr(slash);
    // A route's own name is never a stage: "/tracking/health" is not "/health".
    if (!is_stage_name(stage) || stage == "tracking" || stage == "health" || stage == "assets" ||
        stage == "metrics" || stage == "packages" || stage == "subscriptions" || stage == "staff")
        return {};
    route_match m = match_exact(rest);
    if (m.id == route_id::web_page && rest != "/") return {};  // only "/dev/" is the page
    m.stage = stage;
    return m;
}

}  // namespace dinex::api

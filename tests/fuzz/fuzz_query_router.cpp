// fuzz_query_router: GET with an arbitrary request target. The input is split at the first '?'
// into the raw path and the raw query (no '?': all path). Checks (abort on violation):
//  - match_route: a matched route has a fixed label and a non-empty Allow list; a stage it strips
//    is a valid stage name, is the path's first segment, and the rest of the path matches the
//    same route without a stage; asset/stage views point into the path;
//  - application::handle (memory store with seeded packages) answers exactly once, synchronously,
//    with 200, 400 or 404 only (no 5xx, no 405 for GET); the response's route label is the
//    router's; every JSON answer parses; every error has the documented error shape; a 200 on
//    /tracking is one of the seeded packages;
//  - an application with the lookup cache on answers byte for byte as one without it.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../support/fakes.hpp"
#include "api/application.hpp"
#include "api/router.hpp"
#include "fuzz_support.hpp"
#include "store/memory/memory_store.hpp"

namespace {
using namespace dinex;

constexpr std::string_view seeded[] = {"TRK001", "PKG-2025_X", "A1B"};

struct world {
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    core::tracking_service service{store, clock, ids};
    api::application plain{service, api::app_config{.version = "fuzz", .cors_origins = {"*"}}};
    api::application cached{
        service, api::app_config{.version = "fuzz", .cors_origins = {"*"}, .lookup_cache_entries = 4}};

    world() {
        const char* statuses[] = {"PICKED_UP", "IN_TRANSIT", "DELIVERED"};
        for (const auto id : seeded) {
            for (const char* s : statuses) {
                core::event_input in;
                in.tracking_id = std::string(id);
                in.location = "Lima \"Centro\" \\ Ñuñoa\t";
                in.status = s;
                in.notes = "left at door";
                in.latitude = -12.0464;
                in.longitude = -77.0428;
                bool ok = false;
                service.record(in, [&ok](core::result<core::append_outcome> r) { ok = r.has_value(); });
                FUZZ_CHECK(ok, "seeding the store failed");
                clock.advance(1000);
            }
        }
    }
};

world& the_world() {
    static world* w = new world();  // never destroyed: libFuzzer exits without running atexit order
    return *w;
}

bool within(std::string_view inner, std::string_view outer) {
    if (inner.empty()) return true;
    return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

bool is_stage_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void check_route(std::string_view path) {
    const api::route_match m = api::match_route(path);
    const std::string p(path);
    if (m.id == api::route_id::unmatched) {
        // (stage may be set: "/v1/assets/../x" keeps the stage it tried; nothing reads it then.)
        FUZZ_CHECK(m.label == "unmatched" && m.allow.empty() && m.asset.empty(), p);
        return;
    }
    FUZZ_CHECK(m.label == "/tracking" || m.label == "/health" || m.label == "/" || m.label == "/assets", p);
    FUZZ_CHECK(!m.allow.empty() && m.allow.find("GET") != std::string_view::npos, p);
    FUZZ_CHECK(within(m.stage, path) && within(m.asset, path), p);
    FUZZ_CHECK((m.id == api::route_id::web_asset) == !m.asset.empty(), p);
    if (!m.stage.empty()) {
        FUZZ_CHECK(m.stage.size() <= 128, p);
        for (const char c : m.stage) FUZZ_CHECK(is_stage_char(c), p);
        FUZZ_CHECK(path.substr(0, m.stage.size() + 2) == "/" + std::string(m.stage) + "/", p);
        const std::string_view rest = path.substr(m.stage.size() + 1);
        const api::route_match inner = api::match_route(rest);
        FUZZ_CHECK(inner.id == m.id && inner.label == m.label && inner.stage.empty(), p);
        FUZZ_CHECK(inner.asset == m.asset, p);
    }
    if (!m.asset.empty()) {
        FUZZ_CHECK(m.asset.front() != '.' && m.asset.find('/') == std::string_view::npos, p);
    }
}

std::string_view header(const api::response& r, std::string_view name) {
    for (const auto& h : r.headers) {
        if (h.name == name) return h.value;
    }
    return {};
}

api::response call(api::application& app, std::string_view path, std::string_view query) {
    api::request req;
    req.method = "GET";
    req.path = std::string(path);
    req.query = std::string(query);
    req.request_id = "req-fuzz";
    req.headers = {{"origin", "https://shop.example"}, {"accept", "application/json"}};
    int calls = 0;
    api::response out;
    app.handle(std::move(req), [&](api::response r) {
        ++calls;
        out = std::move(r);
    });
    FUZZ_CHECK(calls == 1, "completion ran " + std::to_string(calls) + " times for " + std::string(path));
    return out;
}

void check_response(const api::response& r, std::string_view path) {
    const std::string target(path);
    const api::route_match m = api::match_route(path);
    FUZZ_CHECK(r.route == m.label, target);
    FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404,
               std::to_string(r.status) + " for " + target + ": " + r.body);
    FUZZ_CHECK(header(r, "access-control-allow-origin") == "*", target);
    const bool is_json = header(r, "content-type").starts_with("application/json");
    if (r.status != 200) {
        FUZZ_CHECK(is_json, target);
        fuzz::check_error_body(r.body, r.status, "req-fuzz");
        return;
    }
    if (m.id == api::route_id::tracking) {
        FUZZ_CHECK(is_json, target);
        const auto doc = fuzz::parse_json(r.body, "lookup answer");
        const std::string_view id = fuzz::str(doc.at("tracking_id"));
        bool known = false;
        for (const auto s : seeded) known = known || s == id;
        FUZZ_CHECK(known, r.body);
        FUZZ_CHECK(doc.at("events").as_array().size() == 3 && doc.at("event_count").to_number<int>() == 3,
                   r.body);
    } else if (m.id == api::route_id::health) {
        FUZZ_CHECK(is_json, target);
        fuzz::parse_json(r.body, "health answer");
    } else {
        FUZZ_CHECK(!r.body.empty() && !header(r, "etag").empty(), target);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto q = input.find('?');
    const std::string_view path = input.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? std::string_view{} : input.substr(q + 1);

    check_route(path);
    world& w = the_world();
    const api::response a = call(w.plain, path, query);
    check_response(a, path);
    const api::response b = call(w.cached, path, query);
    FUZZ_CHECK(a.status == b.status && a.body == b.body,
               "cache changed the answer for " + std::string(input));
    // Twice through the cache: the second answer may come from it.
    const api::response c = call(w.cached, path, query);
    FUZZ_CHECK(a.status == c.status && a.body == c.body, "cached answer differs for " + std::string(input));
    return 0;
}

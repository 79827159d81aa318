#pragma once
// The one entry point every front-end calls: Request in, Response out (through a completion,
// because durable writes finish on the store's writer thread).
#include <cstddef>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "api/lookup_cache.hpp"
#include "core/tracking_service.hpp"

namespace dinex::api {

struct app_config {
    std::string version = "dev";
    // Origins allowed by CORS; "*" allows any. Empty: no CORS headers at all.
    std::vector<std::string> cors_origins = {"*"};
    std::size_t max_body_bytes = 64 * 1024;
    // Lookup answers kept in memory (0: off). Only for a store this process alone writes.
    std::size_t lookup_cache_entries = 0;
};

// The single table from the core's error codes to HTTP status codes.
int http_status(core::errc code) noexcept;

// A complete JSON error response (status, body, content type) for `e`.
response error_response(const core::error& e, std::string_view request_id);

class application {
public:
    application(core::tracking_service& service, app_config config);

    // `done` runs exactly once, on this thread (reads, errors) or on a store thread (writes).
    void handle(request req, completion done);

    const app_config& config() const noexcept { return config_; }

private:
    void handle_health(const request& req, response& res);
    void handle_lookup(const request& req, response& res);
    void handle_record(request& req, response res, completion& done);
    void handle_web(const request& req, std::string_view asset, response& res);
    std::vector<header> cors_headers(const request& req) const;
    bool origin_allowed(std::string_view origin) const noexcept;

    core::tracking_service& service_;
    app_config config_;
    lookup_cache cache_;
};

}  // namespace dinex::api

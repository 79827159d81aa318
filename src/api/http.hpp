#pragma once
// The transport-neutral request and response every front-end (Beast server, Lambda loop) speaks.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dinex::api {

// Work a front-end runs on its own thread (see request::resume).
using task = std::move_only_function<void()>;

struct header {
    std::string name;  // lower-case
    std::string value;
};

struct request {
    std::string method;  // upper-case, as on the wire
    std::string path;    // raw path, percent-encoded, without the query
    std::string query;   // raw query string without '?'
    std::vector<header> headers;
    std::string body;
    std::string remote_address;
    std::string request_id;
    // Runs a task on the thread the request came in on. Durable writes complete on the store's
    // writer thread; what the application still has to do then (encode the answer, call the
    // completion) it hands back through this, so the writer only commits. Empty: run in place.
    std::function<void(task)> resume;

    // First value of a header (name in lower case), or empty.
    std::string_view header_value(std::string_view lower_name) const noexcept {
        for (const auto& h : headers) {
            if (h.name == lower_name) return h.value;
        }
        return {};
    }
    bool has_header(std::string_view lower_name) const noexcept {
        for (const auto& h : headers) {
            if (h.name == lower_name) return true;
        }
        return false;
    }
};

struct response {
    int status = 200;
    std::vector<header> headers;
    std::string body;
    // Fixed label for logs and metrics ("/tracking", "/health", "unmatched" …), never the raw path.
    std::string_view route = "unmatched";
    // For the operator, on the request's log line (and, for a 5xx, its `server error` line): the
    // cause of a failure (the store's or notifier's internal message: AWS error, TLS or connect
    // failure), or what the request had that was ignored. Never sent to the client.
    std::string log_note;

    void set_header(std::string name, std::string value) {
        headers.push_back({std::move(name), std::move(value)});
    }
};

using completion = std::move_only_function<void(response)>;

}  // namespace dinex::api

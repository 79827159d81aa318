#pragma once
// A fake at the AWS HTTP seam (aws::http_send): it records every request and answers from a script,
// so a test can fail exactly the Nth call, or every call that matches, and let the others through
// to a fallback (a canned answer, or a real http_client in front of moto).
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "aws/http_client.hpp"

namespace dinex::testing {

class fake_aws_http {
public:
    using answer = std::expected<aws::http_response, aws::http_error>;
    using matcher = std::function<bool(const aws::http_request&)>;

    static answer status(int code, std::string body = {}) {
        return aws::http_response{code, {}, std::move(body)};
    }
    static answer transport_failure(std::string message = "connection reset by peer") {
        return std::unexpected(aws::http_error{std::move(message)});
    }

    // Calls that no rule answers get `fallback`'s answer.
    explicit fake_aws_http(aws::http_send fallback) : state_(std::make_shared<state>()) {
        state_->fallback = std::move(fallback);
    }
    // ... or this fixed one.
    explicit fake_aws_http(answer fallback = status(200))
        : fake_aws_http([fallback = std::move(fallback)](const aws::http_request&) { return fallback; }) {}

    // Call `n` (1-based, counted over every request) answers `a`.
    fake_aws_http& on_call(int n, answer a) {
        const std::lock_guard lock(state_->mutex);
        state_->by_call[n] = std::move(a);
        return *this;
    }
    // Calls `first` to `last` (inclusive) answer `a`.
    fake_aws_http& on_calls(int first, int last, const answer& a) {
        for (int n = first; n <= last; ++n) on_call(n, a);
        return *this;
    }
    // Every request that `when` accepts answers `a` (after the per-call script, before the fallback).
    fake_aws_http& on_match(matcher when, answer a) {
        const std::lock_guard lock(state_->mutex);
        state_->by_match.emplace_back(std::move(when), std::move(a));
        return *this;
    }

    // What the client under test is given; it shares this fake's script and record.
    aws::http_send send() const {
        return [s = state_](const aws::http_request& r) -> answer {
            std::unique_lock lock(s->mutex);
            s->requests.push_back(r);
            const int n = static_cast<int>(s->requests.size());
            if (const auto it = s->by_call.find(n); it != s->by_call.end()) return it->second;
            for (const auto& [when, a] : s->by_match) {
                if (when(r)) return a;
            }
            const auto fallback = s->fallback;
            lock.unlock();  // a real client behind it must not serialise the callers
            return fallback(r);
        };
    }

    int calls() const {
        const std::lock_guard lock(state_->mutex);
        return static_cast<int>(state_->requests.size());
    }
    std::vector<aws::http_request> requests() const {
        const std::lock_guard lock(state_->mutex);
        return state_->requests;
    }

private:
    struct state {
        std::mutex mutex;
        aws::http_send fallback;
        std::map<int, answer> by_call;
        std::vector<std::pair<matcher, answer>> by_match;
        std::vector<aws::http_request> requests;
    };
    std::shared_ptr<state> state_;
};

// The value of header `name` (as the client wrote it) in `r`, or "" when absent.
inline std::string header_of(const aws::http_request& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
        if (n == name) return v;
    }
    return {};
}

}  // namespace dinex::testing

#pragma once
// Requests as the front-ends make them, for tests that call api::application directly.
#include <string>
#include <utility>
#include <vector>

#include "api/http.hpp"

namespace dinex::testing {

// `target` is the path with an optional "?query".
inline api::request request_to(std::string method, const std::string& target, std::string body = {},
                               std::vector<api::header> headers = {}) {
    api::request req;
    req.method = std::move(method);
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.body = std::move(body);
    req.headers = std::move(headers);
    return req;
}

}  // namespace dinex::testing

#pragma once
// What the route handlers of the application share (private to src/api).
#include <boost/url/pct_string_view.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/application.hpp"
#include "core/error.hpp"

namespace dinex::api::detail {

inline constexpr std::string_view json_type = "application/json; charset=utf-8";

// At most this many field errors are listed in one answer: a query of thousands of bare
// parameters would otherwise be answered with a body many times its size.
inline constexpr std::size_t max_listed_errors = 10;

// JSON bodies only; a missing Content-Type is accepted (the original's clients did not always
// send one).
std::optional<core::error> check_content_type(std::string_view value);

// A 401 carries the scheme the client should use.
response unauthenticated_response(const core::error& e, std::string_view request_id);

// The access line's note for a write with fields the service ignored: their names, never values.
std::string ignored_note_of(const std::vector<std::string>& ignored);

// A query key or value as meant: percent-decoded, '+' a space (HTML forms).
std::string decoded(boost::urls::pct_string_view s);

// The store completes a write on its writer thread; the rest (encoding the answer, the
// front-end's completion) runs where the request came in, through request::resume, so the writer
// only commits. `build` turns the store's result into the answer; if it throws, the client gets
// a 500 rather than the process ending.
template <class Result, class Build>
auto answer_on_requester(const request& req, completion done, Build build) {
    return [resume = req.resume, request_id = req.request_id, done = std::move(done),
            build = std::move(build)](Result r) mutable {
        task work = [request_id = std::move(request_id), done = std::move(done), build = std::move(build),
                     r = std::move(r)]() mutable {
            response res;
            try {
                res = build(std::move(r));
            } catch (const std::exception& e) {
                res = error_response(core::error::internal_error(e.what()), request_id);
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

}  // namespace dinex::api::detail

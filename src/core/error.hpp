#pragma once
// One error vocabulary for the whole service. It knows nothing of HTTP: the api layer owns the
// single table that maps these codes to status codes.
#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace dinex::core {

enum class errc {
    invalid_argument,  // the request is malformed or a field breaks a rule
    unprocessable,     // well-formed, but the values cannot be accepted (e.g. future timestamp)
    not_found,
    conflict,  // contradicts stored state (lifecycle, idempotency key reuse)
    payload_too_large,
    unsupported_media_type,
    method_not_allowed,
    unavailable,  // a dependency is down; safe to retry
    internal,
    unauthenticated,     // no credentials, or credentials that do not verify
    permission_denied,   // verified, but not allowed to do this
    resource_exhausted,  // a quota (rate limit) is used up; retry later
};

struct field_error {
    std::string field;
    std::string rule;
    friend bool operator==(const field_error&, const field_error&) = default;
};

struct error {
    errc code = errc::internal;
    std::string message;  // safe to show the client
    std::vector<field_error> details;
    std::string internal_message;  // for the log only; may name hosts, SQL, errno …

    static error make(errc c, std::string msg, std::vector<field_error> d = {}) {
        return error{c, std::move(msg), std::move(d), {}};
    }
    static error field(errc c, std::string msg, std::string field_name, std::string rule) {
        return error{c, std::move(msg), {field_error{std::move(field_name), std::move(rule)}}, {}};
    }
    static error internal_error(std::string internal) {
        return error{errc::internal, "internal error", {}, std::move(internal)};
    }
    static error unavailable_error(std::string internal) {
        return error{errc::unavailable, "the store is temporarily unavailable", {}, std::move(internal)};
    }
};

template <class T>
using result = std::expected<T, error>;

inline std::unexpected<error> fail(error e) { return std::unexpected<error>(std::move(e)); }

}  // namespace dinex::core

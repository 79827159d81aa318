#pragma once
// The one AWS error classifier: every failed AWS call (a transport failure or an error answer in the
// JSON 1.0 protocol) becomes an aws_error that says whether retrying can help and, for the errors
// that carry a meaning for the caller, which meaning.
#include <string>
#include <string_view>
#include <vector>

namespace dinex::aws {

enum class error_kind {
    transport,                 // no answer (connect, TLS, timeout, reset): retryable
    throttled,                 // Throttling, ProvisionedThroughputExceeded, RequestLimitExceeded: retryable
    server,                    // InternalServerError, ServiceUnavailable, any 5xx: retryable
    conditional_check_failed,  // a condition expression was false: a meaning, not a failure
    transaction_canceled,      // see cancellation_reasons
    resource_not_found,        // the table (or index) does not exist
    resource_in_use,           // e.g. CreateTable on an existing table
    auth,                      // bad signature, unknown key, access denied
    client,                    // any other 4xx: a bug or bad input; retrying cannot help
};

struct aws_error {
    error_kind kind = error_kind::client;
    int http_status = 0;  // 0 for transport errors
    std::string type;     // the short __type ("ConditionalCheckFailedException"), may be empty
    std::string message;  // message / Message of the body, or the transport error
    // For TransactionCanceledException: one Code per item of the transaction ("None",
    // "ConditionalCheckFailed", "TransactionConflict", ...), in request order.
    std::vector<std::string> cancellation_reasons;

    [[nodiscard]] bool retryable() const noexcept {
        return kind == error_kind::transport || kind == error_kind::throttled || kind == error_kind::server;
    }
    // A canceled transaction whose reasons include a failed condition (or a conflict with another
    // transaction): the caller re-reads and decides again.
    [[nodiscard]] bool condition_failed() const noexcept;
    // "ConditionalCheckFailedException (400): The conditional request failed" — for logs.
    [[nodiscard]] std::string describe() const;
};

// Classifies an HTTP answer that is not 200. `body` is the JSON 1.0 error document (it may be
// empty or not JSON at all, as with some proxies and 5xx answers).
[[nodiscard]] aws_error classify(int http_status, std::string_view body);

[[nodiscard]] aws_error transport_error(std::string message);

// The text of the first <name>…</name> in an AWS XML document (no attributes on the element, no
// nesting of the same name): enough for the Query protocol's answers and errors.
[[nodiscard]] std::string_view xml_element(std::string_view body, std::string_view name);

}  // namespace dinex::aws

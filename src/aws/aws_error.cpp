#include "aws/aws_error.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>

namespace dinex::aws {
namespace {

std::string_view short_type(std::string_view type) {
    // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" → after '#';
    // some services append ":http://internal.amazon.com/..." after the name.
    if (const auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
    if (const auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
    return type;
}

bool is_one_of(std::string_view type, std::initializer_list<std::string_view> names) {
    return std::ranges::find(names, type) != names.end();
}

std::string string_field(const boost::json::object& o, std::initializer_list<std::string_view> names) {
    for (const auto name : names) {
        if (const auto* v = o.if_contains(name); v && v->is_string()) return std::string(v->as_string());
    }
    return {};
}

}  // namespace

std::string_view xml_element(std::string_view body, std::string_view name) {
    // Built with append: GCC 12 at -O3 reports a false -Wrestrict on operator+ here.
    std::string open;
    open.reserve(name.size() + 2);
    open.append("<").append(name).append(">");
    std::string close;
    close.reserve(name.size() + 3);
    close.append("</").append(name).append(">");
    const auto start = body.find(open);
    if (start == std::string_view::npos) return {};
    const auto from = start + open.size();
    const auto end = body.find(close, from);
    if (end == std::string_view::npos) return {};
    return body.substr(from, end - from);
}

bool aws_error::condition_failed() const noexcept {
    if (kind == error_kind::conditional_check_failed) return true;
    if (kind != error_kind::transaction_canceled) return false;
    return std::ranges::any_of(cancellation_reasons, [](const std::string& c) {
        return c == "ConditionalCheckFailed" || c == "TransactionConflict";
    });
}

std::string aws_error::describe() const {
    std::string out =
        type.empty() ? std::string(kind == error_kind::transport ? "transport error" : "error") : type;
    if (http_status != 0) out += " (" + std::to_string(http_status) + ")";
    if (!message.empty()) out += ": " + message;
    if (!cancellation_reasons.empty()) {
        out += " [";
        for (std::size_t i = 0; i < cancellation_reasons.size(); ++i) {
            if (i) out += ", ";
            out += cancellation_reasons[i];
        }
        out += "]";
    }
    return out;
}

aws_error transport_error(std::string message) {
    return aws_error{error_kind::transport, 0, {}, std::move(message), {}};
}

aws_error classify(int http_status, std::string_view body) {
    aws_error e;
    e.http_status = http_status;
    boost::system::error_code ec;
    const auto doc = boost::json::parse(body, ec);
    if (!ec && doc.is_object()) {
        const auto& o = doc.as_object();
        e.type = std::string(short_type(string_field(o, {"__type", "code", "Code"})));
        e.message = string_field(o, {"message", "Message"});
        if (const auto* reasons = o.if_contains("CancellationReasons"); reasons && reasons->is_array()) {
            for (const auto& r : reasons->as_array()) {
                std::string code = "None";
                if (r.is_object()) {
                    if (const auto* c = r.as_object().if_contains("Code"); c && c->is_string()) {
                        code = std::string(c->as_string());
                    }
                }
                e.cancellation_reasons.push_back(std::move(code));
            }
        }
    } else if (auto code = xml_element(body, "Code"); !code.empty()) {
        // Some front doors (and moto's signature check) answer in the XML form of the query
        // protocol: <ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>…
        e.type = std::string(short_type(code));
        e.message = std::string(xml_element(body, "Message"));
    } else if (!body.empty()) {
        e.message = std::string(body.substr(0, 200));
    }

    const std::string_view t = e.type;
    if (is_one_of(t, {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                      "Throttling", "TooManyRequestsException"}) ||
        http_status == 429) {
        e.kind = error_kind::throttled;
    } else if (is_one_of(t, {"InternalServerError", "InternalFailure", "ServiceUnavailable",
                             "ServiceUnavailableException"}) ||
               http_status >= 500) {
        e.kind = error_kind::server;
    } else if (t == "ConditionalCheckFailedException") {
        e.kind = error_kind::conditional_check_failed;
    } else if (t == "TransactionCanceledException") {
        e.kind = error_kind::transaction_canceled;
    } else if (t == "ResourceNotFoundException") {
        e.kind = error_kind::resource_not_found;
    } else if (t == "ResourceInUseException") {
        e.kind = error_kind::resource_in_use;
    } else if (is_one_of(t,
                         {"UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch",
                          "MissingAuthenticationTokenException", "AccessDeniedException",
                          "ExpiredTokenException", "IncompleteSignatureException", "InvalidClientTokenId"}) ||
               http_status == 401 || http_status == 403) {
        e.kind = error_kind::auth;
    } else {
        e.kind = error_kind::client;
    }
    return e;
}

}  // namespace dinex::aws

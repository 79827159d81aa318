#include "aws/dynamodb_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "aws/signed_send.hpp"

namespace dinex::aws {

dynamodb_client::dynamodb_client(dynamodb_options options)
    : options_(std::move(options)), send_(options_.send), backoff_(options_.retry, options_.sleep) {
    if (!send_) {
        http_ = std::make_unique<http_client>(options_.http);
        send_ = [http = http_.get()](const http_request& r) { return http->send(r); };
    }
}

std::expected<boost::json::value, aws_error> dynamodb_client::call(std::string_view operation,
                                                                   const boost::json::object& body) {
    return backoff_.run([&] { return call_once(operation, body); },
                        [](const aws_error& e) { return e.retryable(); });
}

std::expected<boost::json::value, aws_error> dynamodb_client::call_once(std::string_view operation,
                                                                        const boost::json::object& body) {
    http_request req;
    req.method = "POST";
    req.path = "/";
    req.body = boost::json::serialize(body);
    req.headers = {
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "DynamoDB_20120810." + std::string(operation)},
    };
    auto answer = signed_send(send_, options_.service, "dynamodb", options_.now(), std::move(req));
    if (!answer) return std::unexpected(std::move(answer.error()));
    if (answer->status != 200) return std::unexpected(classify(answer->status, answer->body));
    if (answer->body.empty()) return boost::json::value(boost::json::object{});
    boost::system::error_code ec;
    auto doc = boost::json::parse(answer->body, ec);
    if (ec) return std::unexpected(aws_error{error_kind::server, answer->status, {}, "unparsable answer: " + ec.message(), {}});
    return doc;
}

}  // namespace dinex::aws

#include "aws/dynamodb_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "aws/signed_send.hpp"

namespace dinex::aws {
namespace {

bool is_read(std::string_view op) {
    return op == "GetItem" || op == "Query" || op == "Scan" || op == "BatchGetItem" ||
           op == "TransactGetItems";
}
bool measures_capacity(std::string_view op) {
    return is_read(op) || op == "PutItem" || op == "UpdateItem" || op == "DeleteItem" ||
           op == "BatchWriteItem" || op == "TransactWriteItems";
}

// ConsumedCapacity is one object, or a list (one per table) for batches and transactions.
consumed_capacity capacity_of(std::string_view op, const boost::json::value& answer) {
    consumed_capacity c;
    const auto* cc = answer.is_object() ? answer.get_object().if_contains("ConsumedCapacity") : nullptr;
    if (!cc) return c;
    const auto add = [&](const boost::json::value& v) {
        if (!v.is_object()) return;
        const auto units = [&](std::string_view name) {
            const auto* n = v.get_object().if_contains(name);
            return n && n->is_number() ? n->to_number<double>() : 0.0;
        };
        const double total = units("CapacityUnits");
        const double read = units("ReadCapacityUnits"), write = units("WriteCapacityUnits");
        if (read > 0 || write > 0) {
            c.read_units += read;
            c.write_units += write;
        } else {
            (is_read(op) ? c.read_units : c.write_units) += total;
        }
    };
    if (cc->is_array()) {
        for (const auto& v : cc->get_array()) add(v);
    } else {
        add(*cc);
    }
    return c;
}

}  // namespace

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
    const bool measured = measures_capacity(operation) && !body.contains("ReturnConsumedCapacity");
    if (measured)
        req.body.insert(1, body.empty() ? "\"ReturnConsumedCapacity\":\"TOTAL\""
                                        : "\"ReturnConsumedCapacity\":\"TOTAL\",");
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
    if (ec)
        return std::unexpected(
            aws_error{error_kind::server, answer->status, {}, "unparsable answer: " + ec.message(), {}});
    if (measured && options_.on_capacity) options_.on_capacity(operation, capacity_of(operation, doc));
    return doc;
}

}  // namespace dinex::aws

#include "aws/dynamodb_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace dinex::aws {
namespace {

bool is_read(std::string_view op) {
    return op == "GetItem" || op == "Query" || op == "Scan" || op == "BatchGetItem" || op == "TransactGetItems";
}
bool measures_capacity(std::string_view op) {
    return is_read(op) || op == "PutItem" || op == "UpdateItem" || op == "DeleteItem" || op == "BatchWriteItem" ||
           op == "TransactWriteItems";
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
    : options_(std::move(options)), http_(options_.http), backoff_(options_.retry, options_.sleep) {}

std::expected<boost::json::value, aws_error> dynamodb_client::call(std::string_view operation,
                                                                   const boost::json::object& body) {
    return backoff_.run([&] { return call_once(operation, body); },
                        [](const aws_error& e) { return e.retryable(); });
}

std::expected<boost::json::value, aws_error> dynamodb_client::call_once(std::string_view operation,
                                                                        const boost::json::object& body) {
    const auto url = parse_url(options_.service.endpoint);
    if (!url) return std::unexpected(aws_error{error_kind::client, 0, {}, url.error().message, {}});

    http_request req;
    req.method = "POST";
    req.url = options_.service.endpoint;
    req.path = "/";
    req.body = boost::json::serialize(body);
    const bool measured = measures_capacity(operation) && !body.contains("ReturnConsumedCapacity");
    if (measured) req.body.insert(1, body.empty() ? "\"ReturnConsumedCapacity\":\"TOTAL\"" : "\"ReturnConsumedCapacity\":\"TOTAL\",");
    req.headers = {
        {"Host", url->authority},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "DynamoDB_20120810." + std::string(operation)},
    };
    const signing_request to_sign{req.method, req.path, req.query, req.headers, req.body};
    const auto signed_at = std::chrono::time_point_cast<std::chrono::seconds>(options_.now());
    try {
        const auto sig = sign(to_sign, options_.service.creds, options_.service.region, "dynamodb", signed_at);
        req.headers.insert(req.headers.end(), sig.headers_to_add.begin(), sig.headers_to_add.end());
    } catch (const std::exception& e) {
        return std::unexpected(aws_error{error_kind::client, 0, {}, std::string("signing: ") + e.what(), {}});
    }

    auto answer = http_.send(req);
    if (!answer) return std::unexpected(transport_error(answer.error().message));
    if (answer->status != 200) return std::unexpected(classify(answer->status, answer->body));
    if (answer->body.empty()) return boost::json::value(boost::json::object{});
    boost::system::error_code ec;
    auto doc = boost::json::parse(answer->body, ec);
    if (ec) return std::unexpected(aws_error{error_kind::server, answer->status, {}, "unparsable answer: " + ec.message(), {}});
    if (measured && options_.on_capacity) options_.on_capacity(operation, capacity_of(operation, doc));
    return doc;
}

}  // namespace dinex::aws

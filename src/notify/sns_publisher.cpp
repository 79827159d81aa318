#include "notify/sns_publisher.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>

#include "aws/signed_send.hpp"
#include "core/time.hpp"

namespace dinex::notify {

namespace {

void add_param(std::string& out, std::string_view name, std::string_view value) {
    if (!out.empty()) out += '&';
    out += form_encode(name);
    out += '=';
    out += form_encode(value);
}

}  // namespace

std::expected<sns_options, std::string> sns_options_from_environment(const aws::env_lookup& env) {
    const char* topic = env ? env("SNS_TOPIC") : std::getenv("SNS_TOPIC");
    if (topic == nullptr || *topic == '\0') return std::unexpected("SNS_TOPIC (the topic ARN) must be set");
    auto service = aws::config_from_environment("sns", env);
    if (!service) return std::unexpected(service.error());
    sns_options o;
    o.service = std::move(*service);
    o.topic_arn = topic;
    return o;
}

std::string subject(const core::notification& n) {
    std::string s = "Tracking update: ";
    s.append(n.tracking_id).append(" is ").append(core::to_string(n.state));
    for (char& c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    if (s.size() > max_subject_chars) s.resize(max_subject_chars);
    return s;
}

std::string form_encode(std::string_view text) {
    // AWS's UriEncode but for the space, which the form writes as '+'.
    std::string out;
    out.reserve(text.size());
    for (std::size_t space = text.find(' '); space != std::string_view::npos; space = text.find(' ')) {
        out += aws::uri_encode(text.substr(0, space), true);
        out += '+';
        text.remove_prefix(space + 1);
    }
    out += aws::uri_encode(text, true);
    return out;
}

std::string publish_form(const core::notification& n, std::string_view topic_arn) {
    std::string body;
    add_param(body, "Action", "Publish");
    add_param(body, "Version", "2010-03-31");
    add_param(body, "TopicArn", topic_arn);
    add_param(body, "Subject", subject(n));
    add_param(body, "Message", message_json(n));
    add_param(body, "MessageAttributes.entry.1.Name", "status");
    add_param(body, "MessageAttributes.entry.1.Value.DataType", "String");
    add_param(body, "MessageAttributes.entry.1.Value.StringValue", core::to_string(n.state));
    add_param(body, "MessageAttributes.entry.2.Name", "tracking_id");
    add_param(body, "MessageAttributes.entry.2.Value.DataType", "String");
    add_param(body, "MessageAttributes.entry.2.Value.StringValue", n.tracking_id);
    return body;
}

std::expected<std::string, aws::aws_error> parse_publish_answer(int http_status, std::string_view body) {
    if (http_status != 200) return std::unexpected(aws::classify(http_status, body));
    const auto id = aws::xml_element(body, "MessageId");
    if (id.empty()) {
        return std::unexpected(aws::aws_error{
            aws::error_kind::server, http_status, {}, "Publish answered 200 without a MessageId", {}});
    }
    return std::string(id);
}

sns_publisher::sns_publisher(sns_options options)
    : options_(std::move(options)), send_(options_.send), backoff_(options_.retry, options_.sleep) {
    if (!send_) {
        http_ = std::make_unique<aws::http_client>(options_.http);
        send_ = [http = http_.get()](const aws::http_request& r) { return http->send(r); };
    }
}

core::result<void> sns_publisher::publish(const core::notification& n) {
    auto sent = publish_message(n);
    if (sent) return {};
    std::string why = "sns publish: ";
    why.append(sent.error().describe());
    return core::fail(sent.error().retryable() ? core::error::unavailable_error(std::move(why))
                                               : core::error::internal_error(std::move(why)));
}

std::expected<std::string, aws::aws_error> sns_publisher::publish_message(const core::notification& n) {
    return backoff_.run([&] { return publish_once(n); },
                        [](const aws::aws_error& e) { return e.retryable(); });
}

std::expected<std::string, aws::aws_error> sns_publisher::publish_once(const core::notification& n) {
    aws::http_request req;  // POST / (the defaults; assigning "/" again trips GCC 12's -O3 -Wrestrict)
    req.body = publish_form(n, options_.topic_arn);
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    auto answer = aws::signed_send(send_, options_.service, "sns", options_.now(), std::move(req));
    if (!answer) return std::unexpected(std::move(answer.error()));
    return parse_publish_answer(answer->status, answer->body);
}

}  // namespace dinex::notify

#include "lambda/stream_consumer.hpp"

#include "obs/emf.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>

#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::lambda {

namespace json = boost::json;
namespace items = store::dynamodb_items;

namespace {

const json::string* string_at(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_string() ? &v->as_string() : nullptr;
}

const json::object* object_at(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_object() ? &v->as_object() : nullptr;
}

// The S value of an attribute of an item / key map.
const json::string* string_attribute(const json::object* item, std::string_view name) {
    if (item == nullptr) return nullptr;
    const auto* a = object_at(*item, name);
    return a ? string_at(*a, "S") : nullptr;
}

bool is_stream_record(const json::value& v) {
    if (!v.is_object()) return false;
    const auto* source = string_at(v.as_object(), "eventSource");
    return source && *source == "aws:dynamodb";
}

record_decision malformed(record_decision d, std::string reason) {
    d.action = record_action::malformed;
    d.reason = std::move(reason);
    return d;
}

record_decision ignored(record_decision d, std::string reason) {
    d.action = record_action::ignore;
    d.reason = std::move(reason);
    return d;
}

record_decision decide_record(const json::value& v) {
    record_decision d;
    if (!v.is_object()) return malformed(std::move(d), "record is not an object");
    const auto& rec = v.as_object();
    if (const auto* id = string_at(rec, "eventID")) d.event_id = std::string(*id);
    const auto* ddb = object_at(rec, "dynamodb");
    if (ddb != nullptr) {
        if (const auto* seq = string_at(*ddb, "SequenceNumber")) d.sequence_number = std::string(*seq);
    }
    if (!is_stream_record(v)) return malformed(std::move(d), "eventSource is not aws:dynamodb");
    if (ddb == nullptr) return malformed(std::move(d), "no dynamodb object");
    if (d.sequence_number.empty()) return malformed(std::move(d), "no dynamodb.SequenceNumber");
    const auto* name = string_at(rec, "eventName");
    if (name == nullptr || (*name != "INSERT" && *name != "MODIFY" && *name != "REMOVE")) {
        return malformed(std::move(d), "eventName is not INSERT, MODIFY or REMOVE");
    }
    const auto* new_image = object_at(*ddb, "NewImage");
    const auto* old_image = object_at(*ddb, "OldImage");
    const json::string* sk = string_attribute(object_at(*ddb, "Keys"), store::dynamodb_schema::sort_key);
    if (sk == nullptr) sk = string_attribute(new_image, store::dynamodb_schema::sort_key);
    if (sk == nullptr) sk = string_attribute(old_image, store::dynamodb_schema::sort_key);
    if (sk == nullptr) return malformed(std::move(d), "no sort key (sk) in Keys or images");
    if (*sk != items::state_sk) return ignored(std::move(d), "not a state item");
    if (*name == "REMOVE") return ignored(std::move(d), "state item removed (TTL)");
    if (new_image == nullptr)
        return malformed(std::move(d), "no NewImage: the stream must be NEW_AND_OLD_IMAGES");

    auto now = items::decode_state(*new_image);
    if (!now) return malformed(std::move(d), "NewImage: " + now.error());
    std::optional<core::package_state> before;
    if (old_image != nullptr) {
        auto old = items::decode_state(*old_image);
        if (!old) return malformed(std::move(d), "OldImage: " + old.error());
        if (old->state.event_id == now->state.event_id) {
            return ignored(std::move(d), "same event_id: a late arrival or a replay");
        }
        // A package replaced after its expiry starts a new life (new created_at): no previous.
        if (old->state.created_at == now->state.created_at) before = std::move(old->state);
    }
    const core::package_state& s = now->state;
    d.action = record_action::publish;
    d.message = core::notification{
        s.tracking_id, s.state,     before ? std::optional<core::status>(before->state) : std::nullopt,
        s.location,    s.timestamp, s.event_id};
    return d;
}

}  // namespace

bool is_stream_event(std::string_view payload) {
    if (payload.find("aws:dynamodb") == std::string_view::npos) return false;
    boost::system::error_code ec;
    const auto doc = json::parse(payload, ec);
    if (ec || !doc.is_object()) return false;
    const auto* records = doc.as_object().if_contains("Records");
    if (records == nullptr || !records->is_array() || records->as_array().empty()) return false;
    return is_stream_record(records->as_array().front());
}

std::expected<std::vector<record_decision>, std::string> decide_records(std::string_view payload) {
    boost::system::error_code ec;
    const auto doc = json::parse(payload, ec);
    if (ec) return std::unexpected("not JSON: " + ec.message());
    if (!doc.is_object()) return std::unexpected("not a JSON object");
    const auto* records = doc.as_object().if_contains("Records");
    if (records == nullptr || !records->is_array()) return std::unexpected("no Records array");
    std::vector<record_decision> out;
    out.reserve(records->as_array().size());
    for (const auto& r : records->as_array()) out.push_back(decide_record(r));
    return out;
}

std::string stream_consumer::handle(std::string_view payload, std::string_view aws_request_id) {
    const auto started = std::chrono::steady_clock::now();
    ++counters_.batches;
    json::array failures;
    std::uint64_t published = 0;
    std::uint64_t ignored_count = 0;
    std::uint64_t malformed_count = 0;
    auto decisions = decide_records(payload);
    if (!decisions) {
        // Only reachable when the caller skipped is_stream_event: nothing to retry record by record.
        log_.log(obs::level::error, "stream event unreadable",
                 {{"aws_request_id", aws_request_id}, {"error", std::string_view(decisions.error())}});
        ++counters_.malformed;
        return R"({"batchItemFailures":[]})";
    }
    bool failed = false;
    for (const auto& d : *decisions) {
        ++counters_.records;
        if (failed) {
            // Lambda retries from the lowest listed sequence number; listing the rest keeps the
            // answer exact about what was not done.
            if (!d.sequence_number.empty())
                failures.push_back(json::object{{"itemIdentifier", d.sequence_number}});
            continue;
        }
        switch (d.action) {
            case record_action::ignore: ++ignored_count; break;
            case record_action::malformed:
                ++malformed_count;
                log_.log(obs::level::error, "malformed stream record skipped",
                         {{"aws_request_id", aws_request_id},
                          {"event_id", std::string_view(d.event_id)},
                          {"sequence_number", std::string_view(d.sequence_number)},
                          {"error", std::string_view(d.reason)}});
                break;
            case record_action::publish: {
                auto sent = notifier_.publish(*d.message);
                if (sent) {
                    ++published;
                    break;
                }
                failed = true;
                ++counters_.failed;
                log_.log(obs::level::error, "notification publish failed",
                         {{"aws_request_id", aws_request_id},
                          {"tracking_id", std::string_view(d.message->tracking_id)},
                          {"event_id", std::string_view(d.message->event_id)},
                          {"sequence_number", std::string_view(d.sequence_number)},
                          {"error", std::string_view(sent.error().internal_message.empty()
                                                         ? sent.error().message
                                                         : sent.error().internal_message)}});
                failures.push_back(json::object{{"itemIdentifier", d.sequence_number}});
                break;
            }
        }
    }
    counters_.published += published;
    counters_.ignored += ignored_count;
    counters_.malformed += malformed_count;
    // One document per batch: the batch's log fields (at log level info) and its metrics. A batch
    // with a failed publish also has that failure's error line above.
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const obs::emf::batch_fields batch{.aws_request_id = aws_request_id,
                                       .records = static_cast<std::int64_t>(decisions->size()),
                                       .ignored = static_cast<std::int64_t>(ignored_count),
                                       .retried = static_cast<std::int64_t>(failures.size()),
                                       .notifier = notifier_.backend_name(),
                                       .duration_ms = ms};
    obs::emf::write_line(
        document_fd_,
        obs::emf::notification_lines(environment_, obs::emf::now_ms(), published, failed ? 1 : 0,
                                     malformed_count, log_.enabled(obs::level::info) ? &batch : nullptr));
    return json::serialize(json::object{{"batchItemFailures", std::move(failures)}});
}

}  // namespace dinex::lambda

#include "api/json_codec.hpp"

#include "api/json_body.hpp"
#include "api/json_writer.hpp"
#include "core/enum_names.hpp"
#include "core/time.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace dinex::api {
namespace json = boost::json;
namespace {

using core::error;
using core::errc;
using core::field_error;

constexpr std::int64_t seconds_of(core::millis t) { return t >= 0 ? t / 1000 : -((-t + 999) / 1000); }

void write_position(json_writer& w, const std::optional<core::position>& p, bool with_nulls) {
    if (p) {
        w.key("latitude").value(p->latitude);
        w.key("longitude").value(p->longitude);
    } else if (with_nulls) {
        w.key("latitude").null();
        w.key("longitude").null();
    }
}

// An event's members (the object stays open): as answered, or as exported (no received_at: a
// re-import receives it anew).
void write_event_fields(json_writer& w, const core::event& e, bool with_received_at) {
    w.key("event_id").value(e.event_id);
    w.key("status").value(core::to_string(e.state));
    w.key("location").value(e.location);
    w.key("timestamp").value(core::format_rfc3339(e.timestamp));
    if (with_received_at) w.key("received_at").value(core::format_rfc3339(e.received_at));
    if (e.description) w.key("description").value(*e.description);
    if (e.notes) w.key("notes").value(*e.notes);
    write_position(w, e.coordinates, false);
    if (e.estimated_delivery) w.key("estimated_delivery").value(core::format_rfc3339(*e.estimated_delivery));
}

void write_event(json_writer& w, const core::event& e) {
    w.begin_object();
    write_event_fields(w, e, true);
    w.end_object();
}

// The state as the original GET answered it (tracking_id, status, location, latitude, longitude,
// timestamp in epoch seconds, notes) plus the richer fields. Leaves the object open.
void write_state_fields(json_writer& w, const core::package_state& s) {
    w.key("tracking_id").value(s.tracking_id);
    w.key("status").value(core::to_string(s.state));
    w.key("location").value(s.location);
    write_position(w, s.coordinates, true);
    w.key("timestamp").value(seconds_of(s.timestamp));
    w.key("notes");
    if (s.notes) {
        w.value(*s.notes);
    } else {
        w.null();
    }
    w.key("last_event_id").value(s.event_id);
    w.key("last_event_at").value(core::format_rfc3339(s.timestamp));
    w.key("created_at").value(core::format_rfc3339(s.created_at));
    w.key("updated_at").value(core::format_rfc3339(s.updated_at));
    w.key("expires_at").value(core::format_rfc3339(s.expires_at));
    w.key("event_count").value(std::uint64_t{s.event_count});
    w.key("estimated_delivery");
    if (s.estimated_delivery) {
        w.value(core::format_rfc3339(*s.estimated_delivery));
    } else {
        w.null();
    }
}

// The original service answered {"error":"<message>"}: `error` stays the human-readable string,
// and the structure a program reads (code, details) stands beside it. Leaves the object open.
void write_error_fields(json_writer& w, const core::error& e) {
    w.key("error").value(e.message);
    w.key("code").value(core::name_in(core::error_code_names, e.code));
    w.key("details").begin_array();
    for (const auto& d : e.details)
        w.begin_object().key("field").value(d.field).key("rule").value(d.rule).end_object();
    w.end_array();
}

void write_ignored_fields(json_writer& w, const std::vector<std::string>& ignored) {
    if (ignored.empty()) return;
    w.key("ignored_fields").begin_array();
    for (const auto& name : ignored) w.value(name);
    w.end_array();
}

struct decoder {
    std::vector<field_error> errors;

    std::optional<std::string> string_field(const json::value& v, std::string_view name, bool nullable) {
        if (v.is_string()) return std::string(v.get_string());
        if (nullable && v.is_null()) return std::nullopt;
        errors.push_back({std::string(name), "type:string"});
        return std::nullopt;
    }
    std::optional<double> number_field(const json::value& v, std::string_view name) {
        if (v.is_null()) return std::nullopt;
        if (v.is_number()) return v.to_number<double>();
        errors.push_back({std::string(name), "type:number"});
        return std::nullopt;
    }
};

}  // namespace

namespace {

// A field the service does not know is ignored, as the original did, and named in the answer:
// the first few names, each cut short, so a body of thousands of keys cannot make a huge answer.
void note_ignored(std::vector<std::string>& ignored, std::string_view name) {
    if (ignored.size() >= ignored_fields_listed) return;
    ignored.emplace_back(name.substr(0, ignored_field_name_max));
}

// One event object, as POST /tracking takes it and as every item of a batch is.
core::result<core::event_input> decode_event_object(const json::value& root) {
    if (!root.is_object()) {
        return core::fail(
            error::field(errc::invalid_argument, "the event must be a JSON object", "event", "type:object"));
    }
    core::event_input in;
    decoder d;
    for (const auto& kv : root.get_object()) {
        const std::string_view key = kv.key();
        const json::value& v = kv.value();
        if (key == "tracking_id") {
            in.tracking_id = d.string_field(v, key, false);
        } else if (key == "location") {
            in.location = d.string_field(v, key, false);
        } else if (key == "status") {
            in.status = d.string_field(v, key, false);
        } else if (key == "event_id") {
            in.event_id = d.string_field(v, key, true);
        } else if (key == "description") {
            in.description = d.string_field(v, key, true);
        } else if (key == "notes") {
            in.notes = d.string_field(v, key, true);
        } else if (key == "latitude") {
            in.latitude = d.number_field(v, key);
        } else if (key == "longitude") {
            in.longitude = d.number_field(v, key);
        } else if (key == "timestamp") {
            // RFC 3339 as designed, or epoch seconds as the original answered them.
            if (v.is_string()) {
                in.timestamp = core::parse_rfc3339(v.get_string());
                if (!in.timestamp) d.errors.push_back({"timestamp", "format:rfc3339"});
            } else if (v.is_int64() || v.is_uint64() || v.is_double()) {
                const double secs = v.to_number<double>();
                if (std::isfinite(secs) && secs >= 0 && secs < 32503680000.0) {
                    in.timestamp = static_cast<core::millis>(std::llround(secs * 1000.0));
                } else {
                    d.errors.push_back({"timestamp", "range:epoch_seconds"});
                }
            } else if (!v.is_null()) {
                d.errors.push_back({"timestamp", "type:string_or_number"});
            }
        } else if (key == "estimated_delivery") {
            // RFC 3339 only: a new field has no epoch-seconds past to stay compatible with.
            if (v.is_string()) {
                in.estimated_delivery = core::parse_rfc3339(v.get_string());
                if (!in.estimated_delivery) d.errors.push_back({"estimated_delivery", "format:rfc3339"});
            } else if (!v.is_null()) {
                d.errors.push_back({"estimated_delivery", "type:string"});
            }
        } else {
            note_ignored(in.ignored_fields, key);
        }
    }
    if (!d.errors.empty()) return core::fail(field_errors(std::move(d.errors)));
    return in;
}

}  // namespace

core::result<core::event_input> decode_event_input(std::string_view body) {
    auto root = parse_object_body(body);
    if (!root) return core::fail(std::move(root.error()));
    return decode_event_object(json::value(std::move(*root)));
}

core::result<batch_input> decode_batch(std::string_view body) {
    auto root = parse_object_body(body);
    if (!root) return core::fail(std::move(root.error()));
    const json::value* events = nullptr;
    std::vector<field_error> errors;
    batch_input out;
    for (const auto& kv : *root) {
        if (kv.key() == "events") {
            events = &kv.value();
        } else {
            note_ignored(out.ignored_fields, kv.key());
        }
    }
    if (!events)
        errors.push_back({"events", "required"});
    else if (!events->is_array())
        errors.push_back({"events", "type:array"});
    if (!errors.empty()) return core::fail(field_errors(std::move(errors), "the batch is malformed: "));
    const auto& list = events->get_array();
    if (list.empty()) {
        return core::fail(
            error::field(errc::unprocessable, "the batch has no events", "events", "min_items:1"));
    }
    if (list.size() > core::limits::batch_max) {
        return core::fail(error::field(errc::payload_too_large,
                                       "the batch has " + std::to_string(list.size()) + " events; at most " +
                                           std::to_string(core::limits::batch_max) + " are accepted",
                                       "events", "max_items:" + std::to_string(core::limits::batch_max)));
    }
    out.items.reserve(list.size());
    for (const auto& item : list) out.items.push_back(decode_event_object(item));
    return out;
}

std::string encode_package(const core::package& p) {
    json_writer w(512 + p.events.size() * 256);
    w.begin_object();
    write_state_fields(w, p.state);
    w.key("events").begin_array();
    for (const auto& e : p.events) write_event(w, e);
    w.end_array();
    w.end_object();
    return w.take();
}

write_note note_of(const core::event_input& in) {
    write_note n;
    n.idempotency = in.event_id ? "event_id" : in.timestamp ? "content" : "none";
    n.ignored_fields = in.ignored_fields;
    return n;
}

std::string encode_append(const core::append_outcome& out, const write_note& note) {
    json_writer w(1024);
    w.begin_object();
    w.key("message").value(out.kind == core::outcome_kind::replay ? "Tracking event already recorded"
                                                                  : "Tracking event recorded");
    w.key("tracking_id").value(out.stored.tracking_id);
    w.key("timestamp").value(seconds_of(out.stored.timestamp));
    w.key("location").value(out.stored.location);
    w.key("status").value(core::to_string(out.stored.state));
    w.key("replayed").value(out.kind == core::outcome_kind::replay);
    // False when an older event arrived late: stored in the history, state unchanged.
    w.key("current").value(out.state.event_id == out.stored.event_id);
    w.key("idempotency").value(note.idempotency);
    write_ignored_fields(w, note.ignored_fields);
    w.key("event");
    write_event(w, out.stored);
    w.key("state").begin_object();
    write_state_fields(w, out.state);
    w.end_object();
    w.end_object();
    return w.take();
}

std::string encode_error(const core::error& e, std::string_view request_id, std::string_view tracking_id) {
    json_writer w(256);
    w.begin_object();
    write_error_fields(w, e);
    if (!tracking_id.empty()) w.key("tracking_id").value(tracking_id);
    w.key("request_id").value(request_id);
    w.end_object();
    return w.take();
}

std::string encode_batch(const std::vector<core::result<core::append_outcome>>& results,
                         const std::vector<std::string>& ignored_fields, const std::vector<write_note>& notes,
                         int (*status_of)(core::errc)) {
    json_writer w(256 + results.size() * 700);
    w.begin_object();
    write_ignored_fields(w, ignored_fields);
    w.key("results").begin_array();
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& r = results[i];
        w.begin_object();
        w.key("index").value(std::uint64_t{i});
        if (r) {
            w.key("status").value(std::int64_t{r->kind == core::outcome_kind::replay ? 200 : 201});
            w.key("result").value(core::name_in(core::outcome_names, r->kind));
            if (i < notes.size()) {
                w.key("idempotency").value(notes[i].idempotency);
                write_ignored_fields(w, notes[i].ignored_fields);
            }
            w.key("event");
            write_event(w, r->stored);
            w.key("state").begin_object();
            write_state_fields(w, r->state);
            w.end_object();
        } else {
            w.key("status").value(std::int64_t{status_of(r.error().code)});
            w.key("result").value("error");
            write_error_fields(w, r.error());
        }
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.take();
}

std::string encode_package_page(const core::package_page& page, std::string_view next_cursor) {
    json_writer w(256 + page.packages.size() * 400);
    w.begin_object();
    w.key("packages").begin_array();
    for (const auto& s : page.packages) {
        w.begin_object();
        write_state_fields(w, s);
        w.end_object();
    }
    w.end_array();
    w.key("next_cursor");
    if (next_cursor.empty()) {
        w.null();
    } else {
        w.value(next_cursor);
    }
    w.end_object();
    return w.take();
}

std::string encode_export_line(const core::event& e) {
    json_writer w(384);
    w.begin_object();
    w.key("tracking_id").value(e.tracking_id);
    write_event_fields(w, e, false);
    w.end_object();
    return w.take();
}

std::string encode_health(const health_report& h) {
    json_writer w(192);
    w.begin_object();
    w.key("status").value(h.healthy ? "healthy" : "unhealthy");
    if (!h.healthy) w.key("error").value(h.error);
    w.key("service").value(h.service);
    w.key("environment").value(h.environment);
    w.key("timestamp").value(seconds_of(h.timestamp));
    w.key("version").value(h.version);
    w.key("store").value(h.store);
    w.end_object();
    return w.take();
}

}  // namespace dinex::api

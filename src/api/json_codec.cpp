#include "api/json_codec.hpp"

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

constexpr std::int64_t seconds_of(core::millis t) {
    return t >= 0 ? t / 1000 : -((-t + 999) / 1000);
}

void put_position(json::object& o, const std::optional<core::position>& p, bool with_nulls) {
    if (p) {
        o["latitude"] = p->latitude;
        o["longitude"] = p->longitude;
    } else if (with_nulls) {
        o["latitude"] = nullptr;
        o["longitude"] = nullptr;
    }
}

json::object event_object(const core::event& e) {
    json::object o;
    o.reserve(9);
    o["event_id"] = e.event_id;
    o["status"] = core::to_string(e.state);
    o["location"] = e.location;
    o["timestamp"] = core::format_rfc3339(e.timestamp);
    o["received_at"] = core::format_rfc3339(e.received_at);
    if (e.description) o["description"] = *e.description;
    if (e.notes) o["notes"] = *e.notes;
    put_position(o, e.coordinates, false);
    return o;
}

// The state as the original GET answered it (tracking_id, status, location, latitude, longitude,
// timestamp in epoch seconds, notes) plus the richer fields.
json::object state_object(const core::package_state& s) {
    json::object o;
    o.reserve(14);
    o["tracking_id"] = s.tracking_id;
    o["status"] = core::to_string(s.state);
    o["location"] = s.location;
    put_position(o, s.coordinates, true);
    o["timestamp"] = seconds_of(s.timestamp);
    if (s.notes) {
        o["notes"] = *s.notes;
    } else {
        o["notes"] = nullptr;
    }
    o["last_event_id"] = s.event_id;
    o["last_event_at"] = core::format_rfc3339(s.timestamp);
    o["created_at"] = core::format_rfc3339(s.created_at);
    o["updated_at"] = core::format_rfc3339(s.updated_at);
    o["expires_at"] = core::format_rfc3339(s.expires_at);
    o["event_count"] = s.event_count;
    return o;
}

struct decoder {
    std::vector<field_error> errors;

    std::optional<std::string> string_field(const json::value& v, std::string_view name,
                                            bool nullable) {
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

core::result<core::event_input> decode_event_input(std::string_view body) {
    json::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    json::value root = json::parse(body, ec, {}, opts);
    if (ec) {
        return core::fail(error::field(errc::invalid_argument,
                                       "the body is not valid JSON: " + ec.message(), "body", "json"));
    }
    if (!root.is_object()) {
        return core::fail(error::field(errc::invalid_argument, "the body must be a JSON object",
                                       "body", "type:object"));
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
                d.errors.push_back({"timestamp", "type:string"});
            }
        } else {
            d.errors.push_back({std::string(key), "unknown_field"});
        }
    }
    if (!d.errors.empty()) {
        std::string msg = "the body has fields of the wrong type or not allowed: ";
        for (std::size_t i = 0; i < d.errors.size(); ++i) {
            msg += (i ? ", " : "") + d.errors[i].field + " (" + d.errors[i].rule + ")";
        }
        return core::fail(error::make(errc::invalid_argument, std::move(msg), std::move(d.errors)));
    }
    return in;
}

std::string encode_package(const core::package& p) {
    json::object o = state_object(p.state);
    json::array events;
    events.reserve(p.events.size());
    for (const auto& e : p.events) events.emplace_back(event_object(e));
    o["events"] = std::move(events);
    return json::serialize(o);
}

std::string encode_append(const core::append_outcome& out) {
    json::object o;
    o.reserve(9);
    o["message"] = out.kind == core::outcome_kind::replay ? "Tracking event already recorded"
                                                          : "Tracking event recorded";
    o["tracking_id"] = out.stored.tracking_id;
    o["timestamp"] = seconds_of(out.stored.timestamp);
    o["location"] = out.stored.location;
    o["status"] = core::to_string(out.stored.state);
    o["replayed"] = out.kind == core::outcome_kind::replay;
    // False when an older event arrived late: stored in the history, state unchanged.
    o["current"] = out.state.event_id == out.stored.event_id;
    o["event"] = event_object(out.stored);
    o["state"] = state_object(out.state);
    return json::serialize(o);
}

std::string encode_error(const core::error& e, std::string_view request_id) {
    static constexpr std::string_view codes[] = {
        "invalid_argument",       "unprocessable_entity", "not_found",   "conflict",
        "payload_too_large",      "unsupported_media_type", "method_not_allowed",
        "unavailable",            "internal"};
    json::array details;
    for (const auto& d : e.details) details.push_back(json::object{{"field", d.field}, {"rule", d.rule}});
    json::object err{{"code", codes[static_cast<std::size_t>(e.code)]},
                     {"message", e.message},
                     {"details", std::move(details)}};
    return json::serialize(json::object{{"error", std::move(err)}, {"request_id", request_id}});
}

std::string encode_health(std::string_view status, std::string_view version, std::string_view store) {
    return json::serialize(json::object{{"status", status}, {"version", version}, {"store", store}});
}

}  // namespace dinex::api

// fuzz_event_json: the POST /tracking body. decode_event_input on arbitrary bytes, then
// core::validate on whatever decodes. Checks (abort on violation):
//  - a refused body is invalid_argument with at least one detail, and its encoded error has the
//    documented shape and carries the same message and details;
//  - a decoded body re-encodes without loss: writing the event_input back as JSON (timestamp as
//    RFC 3339) and decoding it again gives the same event_input;
//  - validate() either fails with invalid_argument/unprocessable and details (encoded as above), or
//    gives a submission that keeps the rules it promises (normalized id, bounded trimmed texts,
//    event id pattern, coordinates in range, timestamp within skew/retention);
//  - a valid submission encodes (encode_append, encode_package) into JSON that parses and carries
//    its strings unchanged.
#include <boost/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_codec.hpp"
#include "core/time.hpp"
#include "core/tracking_service.hpp"
#include "fuzz_support.hpp"

namespace {
using namespace dinex;
namespace json = boost::json;

constexpr core::millis now = 1'764'403'200'000;  // 2025-11-29T08:00:00Z
constexpr core::millis year_10000 = 253'402'300'800'000;

class fixed_ids final : public core::id_generator {
public:
    std::string next_id() override { return "GEN00000001"; }
};

std::string reencode(const core::event_input& in) {
    json::object o;
    auto put = [&o](std::string_view key, const std::optional<std::string>& v) {
        if (v) o[key] = json::string(*v);
    };
    put("tracking_id", in.tracking_id);
    put("location", in.location);
    put("status", in.status);
    put("event_id", in.event_id);
    put("description", in.description);
    put("notes", in.notes);
    if (in.latitude) o["latitude"] = *in.latitude;
    if (in.longitude) o["longitude"] = *in.longitude;
    if (in.timestamp) o["timestamp"] = core::format_rfc3339(*in.timestamp);
    return json::serialize(o);
}

// Boost.JSON 1.81 parses numbers fast, not always correctly rounded: allow a few ulps.
bool close(std::optional<double> a, std::optional<double> b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a) return true;
    if (*a == *b) return true;
    return std::fabs(*a - *b) <= 4 * std::numeric_limits<double>::epsilon() * std::fabs(*a);
}

void check_roundtrip(const core::event_input& in) {
    // format_rfc3339 writes four-digit years only; decoding accepts a few hours outside them
    // through offsets (0000-01-01T00:00:00+01:00), which it cannot write back.
    if (in.timestamp && (*in.timestamp < 0 || *in.timestamp >= year_10000)) return;
    // 1e400 decodes as infinity (validate refuses it later); JSON cannot write it back.
    if ((in.latitude && !std::isfinite(*in.latitude)) || (in.longitude && !std::isfinite(*in.longitude)))
        return;
    const std::string again = reencode(in);
    auto out = api::decode_event_input(again);
    FUZZ_CHECK(out.has_value(), "re-encoded body refused: " + again);
    FUZZ_CHECK(out->tracking_id == in.tracking_id && out->location == in.location &&
                   out->status == in.status && out->event_id == in.event_id &&
                   out->description == in.description && out->notes == in.notes,
               again);
    FUZZ_CHECK(out->timestamp == in.timestamp, again);
    FUZZ_CHECK(close(out->latitude, in.latitude) && close(out->longitude, in.longitude), again);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void check_text(const std::optional<std::string>& t, std::size_t max, std::string_view what) {
    if (!t) return;
    FUZZ_CHECK(!t->empty() && !is_space(t->front()) && !is_space(t->back()), what);
    FUZZ_CHECK(t->size() <= 4 * max, what);
    for (const char c : *t) {
        const auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(u >= 0x20 || c == '\t' || c == '\n' || c == '\r', what);
        FUZZ_CHECK(u != 0x7F, what);
    }
}

void check_submission(const core::event_input& in, const core::submission& sub) {
    const core::event& ev = sub.incoming;
    const auto& id = ev.tracking_id;
    FUZZ_CHECK(id.size() >= 3 && id.size() <= 40, id);
    for (std::size_t i = 0; i < id.size(); ++i) {
        const char c = id[i];
        FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-')), id);
    }
    FUZZ_CHECK(core::normalize_tracking_id(id).value_or("") == id, "normalize is not idempotent: " + id);
    FUZZ_CHECK(!ev.location.empty(), "empty location accepted");
    check_text(ev.location, core::limits::location_max, "location");
    check_text(ev.description, core::limits::description_max, "description");
    check_text(ev.notes, core::limits::notes_max, "notes");
    FUZZ_CHECK(!ev.event_id.empty() && ev.event_id.size() <= core::limits::event_id_max, ev.event_id);
    FUZZ_CHECK(sub.event_id_given == in.event_id.has_value(), ev.event_id);
    FUZZ_CHECK(sub.timestamp_given == in.timestamp.has_value(), "timestamp_given");
    FUZZ_CHECK(ev.received_at == now, "received_at");
    const core::lifecycle_policy policy;
    FUZZ_CHECK(ev.timestamp <= now + core::limits::max_future_skew && ev.timestamp >= now - policy.retention,
               std::to_string(ev.timestamp));
    if (ev.coordinates) {
        FUZZ_CHECK(std::isfinite(ev.coordinates->latitude) && std::fabs(ev.coordinates->latitude) <= 90,
                   "lat");
        FUZZ_CHECK(std::isfinite(ev.coordinates->longitude) && std::fabs(ev.coordinates->longitude) <= 180,
                   "lon");
    }
    FUZZ_CHECK(core::to_string(ev.state) != "", "status");

    // What a client would read back: the POST answer and the GET answer.
    core::append_outcome out;
    out.kind = core::outcome_kind::created;
    out.stored = ev;
    out.state.tracking_id = ev.tracking_id;
    out.state.state = ev.state;
    out.state.location = ev.location;
    out.state.notes = ev.notes;
    out.state.coordinates = ev.coordinates;
    out.state.timestamp = ev.timestamp;
    out.state.event_id = ev.event_id;
    out.state.created_at = out.state.updated_at = now;
    out.state.expires_at = now + policy.retention;
    out.state.event_count = 1;
    const std::string body = api::encode_append(out, api::note_of(in));
    const auto doc = fuzz::parse_json(body, "encode_append");
    const auto& e = doc.at("event").get_object();
    FUZZ_CHECK(fuzz::str(doc.at("tracking_id")) == ev.tracking_id, body);
    // Without event_id the key is the content when there is a timestamp, else none.
    FUZZ_CHECK(fuzz::str(doc.at("idempotency")) == (in.event_id    ? "event_id"
                                                    : in.timestamp ? "content"
                                                                   : "none"),
               body);
    FUZZ_CHECK(in.event_id || !in.timestamp || ev.event_id == core::content_event_id(ev), body);
    FUZZ_CHECK(doc.get_object().contains("ignored_fields") == !in.ignored_fields.empty(), body);
    FUZZ_CHECK(fuzz::str(e.at("location")) == ev.location && fuzz::str(e.at("event_id")) == ev.event_id,
               body);
    FUZZ_CHECK(!ev.description || fuzz::str(e.at("description")) == *ev.description, body);
    FUZZ_CHECK(!ev.notes || fuzz::str(e.at("notes")) == *ev.notes, body);
    FUZZ_CHECK(core::parse_rfc3339(fuzz::str(e.at("timestamp"))) == ev.timestamp, body);
    if (ev.coordinates) {
        FUZZ_CHECK(e.at("latitude").is_number() && e.at("longitude").is_number(), body);
        FUZZ_CHECK(close(e.at("latitude").to_number<double>(), ev.coordinates->latitude), body);
        FUZZ_CHECK(close(e.at("longitude").to_number<double>(), ev.coordinates->longitude), body);
    }
    const std::string pkg = api::encode_package(core::package{out.state, {ev}});
    const auto p = fuzz::parse_json(pkg, "encode_package");
    FUZZ_CHECK(p.at("events").as_array().size() == 1, pkg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto decoded = api::decode_event_input(body);
    if (!decoded) {
        const core::error& err = decoded.error();
        FUZZ_CHECK(err.code == core::errc::invalid_argument, err.message);
        FUZZ_CHECK(!err.details.empty() && !err.message.empty(), err.message);
        fuzz::check_encoded_error(err, "req-fuzz");
        return 0;
    }
    check_roundtrip(*decoded);

    fixed_ids ids;
    auto sub = core::validate(*decoded, now, core::lifecycle_policy{}, ids);
    if (!sub) {
        const core::error& err = sub.error();
        FUZZ_CHECK(err.code == core::errc::invalid_argument || err.code == core::errc::unprocessable,
                   err.message);
        FUZZ_CHECK(!err.details.empty(), err.message);
        fuzz::check_encoded_error(err, "req-fuzz");
        return 0;
    }
    check_submission(*decoded, *sub);
    return 0;
}

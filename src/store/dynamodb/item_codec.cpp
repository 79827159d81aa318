#include "store/dynamodb/item_codec.hpp"

#include <boost/json/value.hpp>
#include <charconv>
#include <cstdio>

#include "crypto/crypto.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::store::dynamodb_items {

namespace json = boost::json;

std::string event_sort_key(core::millis timestamp, std::uint64_t sequence) {
    char digits[48];
    std::snprintf(digits, sizeof digits, "%015lld#%012llu", static_cast<long long>(timestamp),
                  static_cast<unsigned long long>(sequence));
    std::string out(event_prefix);
    out += digits;
    return out;
}

std::string marker_sort_key(std::string_view event_id) {
    return std::string(marker_prefix) + std::string(event_id);
}

json::object key(std::string_view tracking_id, std::string_view sk) {
    return json::object{{dynamodb_schema::partition_key, string(tracking_id)},
                        {dynamodb_schema::sort_key, string(sk)}};
}

std::int64_t ttl_seconds(core::millis expires_at) noexcept {
    return expires_at >= 0 ? (expires_at + 999) / 1000 : expires_at / 1000;
}

json::object number(std::int64_t v) { return json::object{{"N", std::to_string(v)}}; }

json::object number(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return json::object{{"N", std::string_view(buf, static_cast<std::size_t>(r.ptr - buf))}};
}

json::object string(std::string_view v) { return json::object{{"S", v}}; }

namespace {

void put_optional(json::object& item, std::string_view name, const std::optional<std::string>& v) {
    if (v) item[name] = string(*v);
}
void put_position(json::object& item, const std::optional<core::position>& p) {
    if (p) {
        item["latitude"] = number(p->latitude);
        item["longitude"] = number(p->longitude);
    }
}
void put_expiry(json::object& item, core::millis expires_at) {
    item[dynamodb_schema::ttl_attribute] = number(ttl_seconds(expires_at));
    item["expires_at_ms"] = number(expires_at);
}

// Readers: each returns an error naming the attribute when it is missing or mistyped.
struct reader {
    const json::object& item;
    std::string error;

    const json::string* raw(std::string_view name, std::string_view type) {
        const auto* v = item.if_contains(name);
        if (!v || !v->is_object()) return nullptr;
        const auto* t = v->as_object().if_contains(type);
        return t && t->is_string() ? &t->as_string() : nullptr;
    }
    std::string str(std::string_view name) {
        if (const auto* s = raw(name, "S")) return std::string(*s);
        fail(name);
        return {};
    }
    std::optional<std::string> opt_str(std::string_view name) {
        if (const auto* s = raw(name, "S")) return std::string(*s);
        return std::nullopt;
    }
    std::int64_t integer(std::string_view name) {
        if (const auto* s = raw(name, "N")) {
            std::int64_t v = 0;
            const auto r = std::from_chars(s->data(), s->data() + s->size(), v);
            if (r.ec == std::errc() && r.ptr == s->data() + s->size()) return v;
        }
        fail(name);
        return 0;
    }
    std::optional<std::int64_t> opt_integer(std::string_view name) {
        if (!item.contains(name)) return std::nullopt;
        return integer(name);
    }
    std::optional<double> opt_double(std::string_view name) {
        if (const auto* s = raw(name, "N")) {
            double v = 0;
            const auto r = std::from_chars(s->data(), s->data() + s->size(), v);
            if (r.ec == std::errc() && r.ptr == s->data() + s->size()) return v;
            fail(name);
        }
        return std::nullopt;
    }
    std::optional<core::position> position() {
        const auto lat = opt_double("latitude");
        const auto lon = opt_double("longitude");
        if (lat && lon) return core::position{*lat, *lon};
        return std::nullopt;
    }
    core::status status(std::string_view name) {
        const auto text = str(name);
        if (const auto s = core::parse_status(text)) return *s;
        fail(name);
        return core::status::exception;
    }
    void fail(std::string_view name) {
        if (error.empty()) error = "item attribute " + std::string(name) + " is missing or malformed";
    }
};

}  // namespace

std::string event_id_digest(std::string_view event_id) {
    const auto full = crypto::sha256(event_id);
    return std::string(crypto::as_view(full).substr(0, event_id_digest_size));
}

bool has_digest(std::string_view digests, std::string_view digest) noexcept {
    for (std::size_t at = 0; at + digest.size() <= digests.size(); at += digest.size()) {
        if (digests.compare(at, digest.size(), digest) == 0) return true;
    }
    return false;
}

json::object encode_state(const core::package_state& s, std::int64_t version, const state_extras& extras) {
    json::object item{
        {dynamodb_schema::partition_key, string(s.tracking_id)},
        {dynamodb_schema::sort_key, string(state_sk)},
        {"status", string(core::to_string(s.state))},
        {"location", string(s.location)},
        {"timestamp", number(s.timestamp)},
        {"event_id", string(s.event_id)},
        {"created_at", number(s.created_at)},
        {"updated_at", number(s.updated_at)},
        {"event_count", number(static_cast<std::int64_t>(s.event_count))},
        {"version", number(version)},
        // The sparse index: only state items carry these two.
        {dynamodb_schema::index_partition_key, string(core::to_string(s.state))},
        {dynamodb_schema::index_sort_key, number(s.updated_at)},
    };
    put_optional(item, "notes", s.notes);
    put_position(item, s.coordinates);
    if (s.estimated_delivery) item["estimated_delivery"] = number(*s.estimated_delivery);
    put_expiry(item, s.expires_at);
    if (extras.event_id_digests)
        item["event_ids"] = json::object{{"B", crypto::base64_encode(*extras.event_id_digests)}};
    if (extras.legacy_markers) item["legacy_markers"] = json::object{{"BOOL", true}};
    if (!extras.pending.empty()) {
        json::array list;
        for (const auto& p : extras.pending) list.push_back(json::object{{"M", p}});
        item["pending"] = json::object{{"L", std::move(list)}};
    }
    return item;
}

std::expected<decoded_state, std::string> decode_state(const json::object& item) {
    reader r{item, {}};
    decoded_state d;
    core::package_state& s = d.state;
    s.tracking_id = r.str(dynamodb_schema::partition_key);
    s.state = r.status("status");
    s.location = r.str("location");
    s.notes = r.opt_str("notes");
    s.coordinates = r.position();
    s.timestamp = r.integer("timestamp");
    s.event_id = r.str("event_id");
    s.created_at = r.integer("created_at");
    s.updated_at = r.integer("updated_at");
    s.expires_at = r.integer("expires_at_ms");
    s.event_count = static_cast<std::uint64_t>(r.integer("event_count"));
    s.estimated_delivery = r.opt_integer("estimated_delivery");
    d.version = r.integer("version");
    if (const auto* b = r.raw("event_ids", "B")) {
        auto bytes = crypto::base64_decode(*b);
        if (!bytes || bytes->size() % event_id_digest_size != 0) {
            r.fail("event_ids");
        } else {
            d.extras.event_id_digests = std::move(*bytes);
        }
    }
    if (const auto* v = item.if_contains("legacy_markers"); v && v->is_object()) {
        const auto* flag = v->as_object().if_contains("BOOL");
        d.extras.legacy_markers = flag && flag->is_bool() && flag->as_bool();
    }
    if (const auto* v = item.if_contains("pending"); v && v->is_object()) {
        const auto* list = v->as_object().if_contains("L");
        if (!list || !list->is_array()) {
            r.fail("pending");
        } else {
            for (const auto& entry : list->as_array()) {
                const auto* m = entry.is_object() ? entry.as_object().if_contains("M") : nullptr;
                if (!m || !m->is_object()) {
                    r.fail("pending");
                    break;
                }
                d.extras.pending.push_back(m->as_object());
            }
        }
    }
    if (!r.error.empty()) return std::unexpected(r.error);
    return d;
}

json::object encode_event(const core::event& e, core::millis expires_at) {
    json::object item{
        {dynamodb_schema::partition_key, string(e.tracking_id)},
        {dynamodb_schema::sort_key, string(event_sort_key(e.timestamp, e.sequence))},
        {"event_id", string(e.event_id)},
        {"status", string(core::to_string(e.state))},
        {"location", string(e.location)},
        {"timestamp", number(e.timestamp)},
        {"received_at", number(e.received_at)},
        {"seq", number(static_cast<std::int64_t>(e.sequence))},
    };
    put_optional(item, "description", e.description);
    put_optional(item, "notes", e.notes);
    put_position(item, e.coordinates);
    if (e.estimated_delivery) item["estimated_delivery"] = number(*e.estimated_delivery);
    put_expiry(item, expires_at);
    return item;
}

json::object encode_marker(const core::event& e, core::millis expires_at) {
    json::object item = encode_event(e, expires_at);
    item["event_sk"] = item[dynamodb_schema::sort_key];
    item[dynamodb_schema::sort_key] = string(marker_sort_key(e.event_id));
    return item;
}

std::expected<core::event, std::string> decode_event(const json::object& item) {
    reader r{item, {}};
    core::event e;
    e.tracking_id = r.str(dynamodb_schema::partition_key);
    e.event_id = r.str("event_id");
    e.state = r.status("status");
    e.location = r.str("location");
    e.timestamp = r.integer("timestamp");
    e.received_at = r.integer("received_at");
    e.description = r.opt_str("description");
    e.notes = r.opt_str("notes");
    e.coordinates = r.position();
    e.estimated_delivery = r.opt_integer("estimated_delivery");
    // Items written before `seq` existed sort among themselves by their sort key alone.
    e.sequence = static_cast<std::uint64_t>(r.opt_integer("seq").value_or(0));
    if (!r.error.empty()) return std::unexpected(r.error);
    return e;
}

json::object pending_form(json::object event_item) {
    event_item.erase(dynamodb_schema::partition_key);
    return event_item;
}

json::object event_item_of(const json::object& pending, std::string_view tracking_id) {
    json::object item = pending;
    item[dynamodb_schema::partition_key] = string(tracking_id);
    return item;
}

std::string_view string_attribute(const json::object& item, std::string_view name) noexcept {
    const auto* v = item.if_contains(name);
    if (!v || !v->is_object()) return {};
    const auto* s = v->as_object().if_contains("S");
    return s && s->is_string() ? std::string_view(s->as_string()) : std::string_view{};
}

core::millis expires_at_ms(const json::object& item) {
    reader r{item, {}};
    const auto v = r.integer("expires_at_ms");
    return r.error.empty() ? v : 0;
}

std::vector<const json::object*> page_items(const json::object& answer) {
    std::vector<const json::object*> out;
    if (const auto* list = answer.if_contains("Items"); list && list->is_array()) {
        for (const auto& v : list->get_array()) {
            if (const auto* o = v.if_object()) out.push_back(o);
        }
    }
    return out;
}

}  // namespace dinex::store::dynamodb_items

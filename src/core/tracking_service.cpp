#include "core/tracking_service.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <utility>

// Header-only, no I/O: a stable 128-bit hash for content-derived idempotency keys.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dinex::core {
namespace {

constexpr bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Length in code points, so a limit means the same for "Lima" and "Ñuñoa".
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
    }
    return n;
}

bool has_control_chars(std::string_view s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') return true;
        if (u == 0x7F) return true;
    }
    return false;
}

bool valid_event_id(std::string_view s) {
    if (s.empty() || s.size() > limits::event_id_max) return false;
    for (const char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

// Required or optional free text: trimmed, non-empty when present, bounded, printable.
void check_text(const std::optional<std::string>& value, const char* field, std::size_t max, bool required,
                std::vector<field_error>& errors, std::optional<std::string>& out) {
    if (!value) {
        if (required) errors.push_back({field, "required"});
        return;
    }
    const std::string_view t = trim(*value);
    if (t.empty()) {
        if (required) errors.push_back({field, "not_empty"});
        return;  // an empty optional text is the same as none
    }
    if (utf8_length(t) > max) {
        errors.push_back({field, "max_length:" + std::to_string(max)});
        return;
    }
    if (has_control_chars(t)) {
        errors.push_back({field, "no_control_characters"});
        return;
    }
    out = std::string(t);
}

}  // namespace

std::string content_event_id(const event& e) {
    // Every field that same_content() compares, each behind a tag byte, so no two different
    // events share a canonical form ("a" + "bc" vs "ab" + "c"; absent vs empty).
    std::string canonical;
    canonical.reserve(128 + e.location.size());
    const auto text = [&](char tag, std::string_view v) {
        canonical += tag;
        canonical += std::to_string(v.size());
        canonical += ':';
        canonical += v;
    };
    const auto number = [&](char tag, std::uint64_t v) {
        canonical += tag;
        canonical += std::to_string(v);
        canonical += ';';
    };
    text('t', e.tracking_id);
    text('s', to_string(e.state));
    text('l', e.location);
    number('w', static_cast<std::uint64_t>(e.timestamp));
    if (e.description) text('d', *e.description);
    if (e.notes) text('n', *e.notes);
    if (e.coordinates) {
        number('y', std::bit_cast<std::uint64_t>(e.coordinates->latitude));
        number('x', std::bit_cast<std::uint64_t>(e.coordinates->longitude));
    }
    if (e.estimated_delivery) number('e', static_cast<std::uint64_t>(*e.estimated_delivery));
    const XXH128_hash_t h = XXH3_128bits(canonical.data(), canonical.size());
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "c-";
    for (const std::uint64_t part : {h.high64, h.low64}) {
        for (int shift = 60; shift >= 0; shift -= 4) id += hex[(part >> shift) & 0xFU];
    }
    return id;
}

result<std::string> normalize_tracking_id(std::string_view raw) {
    const std::string_view t = trim(raw);
    if (t.empty()) {
        return fail(error::field(errc::invalid_argument, std::string(tracking_id_required), "tracking_id",
                                 "required"));
    }
    std::string id;
    id.reserve(t.size());
    for (const char c : t) {
        id.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
    bool ok = id.size() >= 3 && id.size() <= 40;
    for (std::size_t i = 0; ok && i < id.size(); ++i) {
        const char c = id[i];
        const bool alnum = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        ok = alnum || (i > 0 && (c == '_' || c == '-'));
    }
    if (!ok) {
        return fail(error::field(errc::invalid_argument,
                                 "tracking_id must be 3 to 40 letters, digits, '_' or '-', starting "
                                 "with a letter or digit",
                                 "tracking_id", "pattern:^[A-Z0-9][A-Z0-9_-]{2,39}$"));
    }
    return id;
}

result<submission> validate(const event_input& in, millis now, const lifecycle_policy& policy,
                            id_generator& ids) {
    std::vector<field_error> errors;
    submission sub;
    event& ev = sub.incoming;
    ev.received_at = now;

    if (!in.tracking_id) {
        errors.push_back({"tracking_id", "required"});
    } else if (auto id = normalize_tracking_id(*in.tracking_id)) {
        ev.tracking_id = std::move(*id);
    } else {
        errors.push_back(id.error().details.front());
    }

    std::optional<std::string> location;
    check_text(in.location, "location", limits::location_max, true, errors, location);
    if (location) ev.location = std::move(*location);

    if (!in.status) {
        ev.state = status::in_transit;  // the original service's default
    } else {
        if (auto s = parse_status_input(*in.status)) {
            ev.state = *s;
        } else {
            errors.push_back({"status", "one_of:" + status_list()});
        }
    }

    check_text(in.description, "description", limits::description_max, false, errors, ev.description);
    check_text(in.notes, "notes", limits::notes_max, false, errors, ev.notes);

    if (in.latitude.has_value() != in.longitude.has_value()) {
        errors.push_back({in.latitude ? "longitude" : "latitude",
                          "required_with:" + std::string(in.latitude ? "latitude" : "longitude")});
    }
    bool coords_ok = in.latitude && in.longitude;
    if (in.latitude && !(std::isfinite(*in.latitude) && *in.latitude >= -90 && *in.latitude <= 90)) {
        errors.push_back({"latitude", "range:-90..90"});
        coords_ok = false;
    }
    if (in.longitude && !(std::isfinite(*in.longitude) && *in.longitude >= -180 && *in.longitude <= 180)) {
        errors.push_back({"longitude", "range:-180..180"});
        coords_ok = false;
    }
    if (coords_ok) ev.coordinates = position{*in.latitude, *in.longitude};

    if (in.timestamp) {
        sub.timestamp_given = true;
        if (*in.timestamp > now + limits::max_future_skew) {
            errors.push_back({"timestamp", "not_in_future:max_skew_seconds=300"});
        } else if (*in.timestamp < now - policy.retention) {
            errors.push_back(
                {"timestamp", "within_retention:days=" + std::to_string(policy.retention / 86'400'000)});
        } else {
            ev.timestamp = *in.timestamp;
        }
    } else {
        ev.timestamp = now;
    }

    if (in.estimated_delivery && ev.timestamp != 0) {
        if (*in.estimated_delivery < ev.timestamp - eta_min_before_event) {
            errors.push_back({"estimated_delivery", "not_before:timestamp-1d"});
        } else if (*in.estimated_delivery > ev.timestamp + eta_max_after_event) {
            errors.push_back({"estimated_delivery", "not_after:timestamp+365d"});
        } else {
            ev.estimated_delivery = in.estimated_delivery;
        }
    }

    if (in.event_id) {
        sub.event_id_given = true;
        if (valid_event_id(*in.event_id)) {
            ev.event_id = *in.event_id;
        } else {
            errors.push_back({"event_id", "pattern:^[A-Za-z0-9._:-]{1,64}$"});
        }
    } else if (sub.timestamp_given) {
        // A retry of the same event (same content, same time) is recognised without a client key.
        ev.event_id = content_event_id(ev);
    } else {
        ev.event_id = ids.next_id();
    }

    if (!errors.empty()) {
        // Missing fields are a malformed request (400); present-but-wrong values are 422.
        bool only_values = true;
        for (const auto& e : errors) {
            if (e.rule == "required") only_values = false;
        }
        std::string msg;
        if (errors.size() == 1 && errors.front() == field_error{"tracking_id", "required"}) {
            msg = tracking_id_required;  // word for word what the original answered
        } else {
            msg = "the event has " + std::to_string(errors.size()) + " invalid field" +
                  (errors.size() == 1 ? "" : "s") + ": ";
            for (std::size_t i = 0; i < errors.size(); ++i) {
                msg += (i ? ", " : "") + errors[i].field + " (" + errors[i].rule + ")";
            }
        }
        return fail(error::make(only_values ? errc::unprocessable : errc::invalid_argument, std::move(msg),
                                std::move(errors)));
    }
    return sub;
}

tracking_service::tracking_service(store& s, clock& c, id_generator& ids, service_config cfg)
    : store_(s), clock_(c), ids_(ids), cfg_(cfg) {}

result<package> tracking_service::track(std::string_view raw_tracking_id) {
    auto id = normalize_tracking_id(raw_tracking_id);
    if (!id) return fail(std::move(id.error()));
    auto found = store_.find(*id, clock_.now(), cfg_.max_events_per_lookup);
    if (!found) return fail(std::move(found.error()));
    if (!*found) {
        // The original's words; the id travels beside them (api: "tracking_id" in the body).
        return fail(error::field(errc::not_found, std::string(tracking_not_found), "tracking_id", "exists"));
    }
    return std::move(**found);
}

void tracking_service::record(const event_input& in, append_callback done) {
    auto sub = validate(in, clock_.now(), cfg_.lifecycle, ids_);
    if (!sub) {
        done(fail(std::move(sub.error())));
        return;
    }
    store_.append(std::move(*sub), cfg_.lifecycle, std::move(done));
}

void tracking_service::record_batch(const std::vector<event_input>& in, batch_callback done) {
    const millis now = clock_.now();
    std::vector<result<append_outcome>> results(in.size(), fail(error::internal_error("not applied")));
    std::vector<submission> valid;
    std::vector<std::size_t> positions;  // of each valid submission in `in`
    valid.reserve(in.size());
    positions.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        auto sub = validate(in[i], now, cfg_.lifecycle, ids_);
        if (sub) {
            valid.push_back(std::move(*sub));
            positions.push_back(i);
        } else {
            results[i] = fail(std::move(sub.error()));
        }
    }
    if (valid.empty()) {
        done(std::move(results));
        return;
    }
    store_.append_batch(std::move(valid), cfg_.lifecycle,
                        [results = std::move(results), positions = std::move(positions),
                         done = std::move(done)](std::vector<result<append_outcome>> stored) mutable {
                            for (std::size_t k = 0; k < stored.size() && k < positions.size(); ++k) {
                                results[positions[k]] = std::move(stored[k]);
                            }
                            done(std::move(results));
                        });
}

result<package_page> tracking_service::list_packages(package_query q) {
    q.now = clock_.now();
    return store_.list_packages(q);
}

result<export_page> tracking_service::export_packages(std::string_view cursor, std::size_t limit) {
    return store_.export_packages(cursor, limit, clock_.now());
}

result<std::size_t> tracking_service::purge_expired() { return store_.purge_expired(clock_.now()); }

}  // namespace dinex::core

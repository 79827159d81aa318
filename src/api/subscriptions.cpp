#include "api/subscriptions.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <charconv>

#include "api/application.hpp"
#include "api/json_body.hpp"
#include "api/json_writer.hpp"
#include "core/time.hpp"
#include "core/tracking_service.hpp"
#include "notify/message.hpp"
#include "notify/webhook.hpp"

namespace dinex::api {
namespace {

using core::errc;
using core::error;

constexpr std::size_t default_page = 50;
constexpr std::size_t max_page = 200;

struct subscription_input {
    std::string url;
    std::vector<core::status> statuses;
    std::optional<std::string> tracking_id;
};

core::result<subscription_input> decode_subscription(std::string_view body, bool allow_private) {
    auto root = parse_object_body(body);
    if (!root) return core::fail(std::move(root.error()));
    subscription_input in;
    std::vector<core::field_error> errors;
    bool has_url = false;
    for (const auto& kv : *root) {
        const std::string_view key = kv.key();
        const auto& v = kv.value();
        if (key == "url") {
            if (!v.is_string()) {
                errors.push_back({"url", "type:string"});
                continue;
            }
            has_url = true;
            in.url = std::string(v.get_string());
        } else if (key == "statuses") {
            if (v.is_null()) continue;
            if (!v.is_array()) {
                errors.push_back({"statuses", "type:array"});
                continue;
            }
            for (std::size_t i = 0; i < v.get_array().size(); ++i) {
                const auto& item = v.get_array()[i];
                const std::string field = "statuses[" + std::to_string(i) + "]";
                if (!item.is_string()) {
                    errors.push_back({field, "type:string"});
                    continue;
                }
                const auto st = core::parse_status_input(item.get_string());
                if (!st) {
                    errors.push_back({field, "one_of:" + core::status_list()});
                } else if (std::find(in.statuses.begin(), in.statuses.end(), *st) == in.statuses.end()) {
                    in.statuses.push_back(*st);
                }
            }
        } else if (key == "tracking_id") {
            if (v.is_null()) continue;
            if (!v.is_string()) {
                errors.push_back({"tracking_id", "type:string"});
                continue;
            }
            auto id = core::normalize_tracking_id(v.get_string());
            if (!id) {
                for (auto& d : id.error().details) errors.push_back(std::move(d));
            } else {
                in.tracking_id = std::move(*id);
            }
        } else {
            errors.push_back({std::string(key), "unknown_field"});
        }
    }
    if (!has_url &&
        std::none_of(errors.begin(), errors.end(), [](const auto& e) { return e.field == "url"; })) {
        errors.push_back({"url", "required"});
    }
    if (!errors.empty()) return core::fail(field_errors(std::move(errors)));
    if (auto bad = notify::check_webhook_url(in.url, allow_private); !bad)
        return core::fail(std::move(bad.error()));
    return in;
}

core::result<bool> decode_update(std::string_view body) {
    auto root = parse_object_body(body);
    if (!root) return core::fail(std::move(root.error()));
    std::vector<core::field_error> errors;
    std::optional<bool> enabled;
    for (const auto& kv : *root) {
        if (kv.key() == "enabled") {
            if (kv.value().is_bool()) {
                enabled = kv.value().get_bool();
            } else {
                errors.push_back({"enabled", "type:boolean"});
            }
        } else {
            errors.push_back({std::string(kv.key()), "unknown_field"});
        }
    }
    if (!enabled && errors.empty()) errors.push_back({"enabled", "required"});
    if (!errors.empty()) return core::fail(field_errors(std::move(errors)));
    return *enabled;
}

void time_or_null(json_writer& w, std::string_view key, std::optional<core::millis> t) {
    w.key(key);
    if (t) {
        w.value(core::format_rfc3339(*t));
    } else {
        w.null();
    }
}

void write_subscription(json_writer& w, const core::subscription& s, bool with_secret) {
    w.begin_object();
    w.key("id").value(s.id);
    w.key("url").value(s.url);
    w.key("statuses").begin_array();
    for (const auto st : s.statuses) w.value(core::to_string(st));
    w.end_array();
    w.key("tracking_id");
    if (s.tracking_id) {
        w.value(*s.tracking_id);
    } else {
        w.null();
    }
    if (with_secret) w.key("secret").value(s.secret);
    w.key("enabled").value(s.enabled);
    time_or_null(w, "disabled_at", s.disabled_at);
    w.key("disabled_reason");
    if (s.enabled) {
        w.null();
    } else {
        w.value(s.disabled_reason);
    }
    w.key("consecutive_failures").value(std::uint64_t{s.consecutive_failures});
    time_or_null(w, "paused_until",
                 s.paused_until > 0 ? std::optional<core::millis>(s.paused_until) : std::nullopt);
    time_or_null(w, "last_success_at", s.last_success_at);
    w.key("created_at").value(core::format_rfc3339(s.created_at));
    w.end_object();
}

void write_delivery(json_writer& w, const core::delivery& d) {
    w.begin_object();
    w.key("id").value(d.id);
    w.key("state").value(core::to_string(d.state));
    w.key("attempts").value(std::uint64_t{d.attempts});
    w.key("created_at").value(core::format_rfc3339(d.created_at));
    time_or_null(w, "next_attempt_at",
                 d.state == core::delivery_state::pending ? std::optional<core::millis>(d.next_attempt_at)
                                                          : std::nullopt);
    time_or_null(w, "last_attempt_at", d.last_attempt_at);
    w.key("last_http_status");
    if (d.last_http_status) {
        w.value(std::int64_t{*d.last_http_status});
    } else {
        w.null();
    }
    w.key("last_error");
    if (d.last_error.empty()) {
        w.null();
    } else {
        w.value(d.last_error);
    }
    // The document exactly as the receiver gets it.
    w.key("message").raw(notify::message_json(d.message));
    w.end_object();
}

void answer_error(response& res, const error& e, const request& req) {
    res = error_response(e, req.request_id);
}

std::optional<std::size_t> parse_limit(std::string_view text) {
    std::size_t n = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || n < 1 || n > max_page)
        return std::nullopt;
    return n;
}

}  // namespace

subscription_api::subscription_api(core::webhook_store* store, core::clock& clock, core::id_generator& ids,
                                   subscription_settings settings)
    : store_(store), clock_(clock), ids_(ids), settings_(settings) {}

std::optional<error> subscription_api::unavailable() const {
    if (store_) return std::nullopt;
    return error::field(errc::not_found,
                        "webhook subscriptions belong to the local server; on AWS, subscribe to the SNS "
                        "topic (docs/NOTIFICATIONS.md)",
                        "path", "route");
}

void subscription_api::create(const request& req, response& res) {
    const auto fail = [&](const error& e) { answer_error(res, e, req); };
    auto input = decode_subscription(req.body, settings_.allow_private);
    if (!input) return fail(input.error());
    auto existing = store_->list_subscriptions();
    if (!existing) return fail(existing.error());
    if (existing->size() >= settings_.max_subscriptions) {
        return fail(error::field(
            errc::conflict,
            "at most " + std::to_string(settings_.max_subscriptions) + " subscriptions; delete one first",
            "url", "max_subscriptions:" + std::to_string(settings_.max_subscriptions)));
    }
    core::subscription s;
    s.id = ids_.next_id();
    s.url = std::move(input->url);
    s.statuses = std::move(input->statuses);
    s.tracking_id = std::move(input->tracking_id);
    s.secret = notify::new_signing_secret();
    s.created_at = clock_.now();
    if (auto stored = store_->create_subscription(s); !stored) return fail(stored.error());
    json_writer w(512);
    write_subscription(w, s, true);
    set_json(res, 201, w.take());
    res.set_header("location", "/subscriptions/" + s.id);
}

void subscription_api::list(const request& req, response& res) {
    auto all = store_->list_subscriptions();
    if (!all) return answer_error(res, all.error(), req);
    json_writer w(256 + all->size() * 384);
    w.begin_object().key("subscriptions").begin_array();
    for (const auto& s : *all) write_subscription(w, s, false);
    w.end_array().end_object();
    set_json(res, 200, w.take());
}

void subscription_api::show(const request& req, std::string_view id, response& res) {
    auto found = store_->find_subscription(id);
    if (!found) return answer_error(res, found.error(), req);
    if (!*found) return answer_error(res, core::subscription_not_found(id), req);
    json_writer w(512);
    write_subscription(w, **found, false);
    set_json(res, 200, w.take());
}

void subscription_api::update(const request& req, std::string_view id, response& res) {
    auto enabled = decode_update(req.body);
    if (!enabled) return answer_error(res, enabled.error(), req);
    auto updated = store_->set_enabled(id, *enabled, clock_.now(), "disabled by an administrator");
    if (!updated) return answer_error(res, updated.error(), req);
    json_writer w(512);
    write_subscription(w, *updated, false);
    set_json(res, 200, w.take());
}

void subscription_api::remove(const request& req, std::string_view id, response& res) {
    if (auto gone = store_->delete_subscription(id); !gone) return answer_error(res, gone.error(), req);
    res.status = 204;
    res.body.clear();
}

void subscription_api::deliveries(const request& req, std::string_view id, response& res) {
    const auto fail = [&](const error& e) { answer_error(res, e, req); };
    std::size_t limit = default_page;
    if (const auto text = query_param(req.query, "limit")) {
        const auto n = parse_limit(*text);
        if (!n) {
            return fail(error::field(errc::invalid_argument, "limit must be a whole number from 1 to 200",
                                     "limit", "range:1-200"));
        }
        limit = *n;
    }
    const auto cursor = query_param(req.query, "cursor");
    auto page =
        store_->deliveries_of(id, limit, cursor ? std::optional<std::string_view>(*cursor) : std::nullopt);
    if (!page) return fail(page.error());
    json_writer w(256 + page->items.size() * 512);
    w.begin_object().key("deliveries").begin_array();
    for (const auto& d : page->items) write_delivery(w, d);
    w.end_array();
    w.key("next_cursor");
    if (page->next_cursor) {
        w.value(*page->next_cursor);
    } else {
        w.null();
    }
    w.end_object();
    set_json(res, 200, w.take());
}

}  // namespace dinex::api

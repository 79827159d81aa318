#include "core/webhooks.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace dinex::core {
namespace {

// No answer at all, a timeout the receiver reported, its rate limit, or its own failure. Any
// other status is the receiver's considered "no" to this delivery.
bool worth_retrying(const attempt_report& r) noexcept {
    return !r.http_status || *r.http_status == 408 || *r.http_status == 429 || *r.http_status >= 500;
}

}  // namespace

std::optional<notification> notification_of(const append_outcome& outcome) {
    if (outcome.kind != outcome_kind::created) return std::nullopt;
    const package_state& s = outcome.state;
    notification n;
    n.tracking_id = s.tracking_id;
    n.state = s.state;
    if (outcome.previous) n.previous = outcome.previous->state;
    n.location = s.location;
    n.timestamp = s.timestamp;
    n.event_id = s.event_id;
    return n;
}

bool wants(const subscription& s, const notification& n) noexcept {
    if (!s.enabled) return false;
    if (s.tracking_id && *s.tracking_id != n.tracking_id) return false;
    return s.statuses.empty() || std::find(s.statuses.begin(), s.statuses.end(), n.state) != s.statuses.end();
}

std::string_view to_string(delivery_state s) noexcept {
    switch (s) {
        case delivery_state::pending: return "pending";
        case delivery_state::delivered: return "delivered";
        case delivery_state::failed: return "failed";
    }
    return "pending";
}

std::optional<delivery_state> parse_delivery_state(std::string_view text) noexcept {
    if (text == "pending") return delivery_state::pending;
    if (text == "delivered") return delivery_state::delivered;
    if (text == "failed") return delivery_state::failed;
    return std::nullopt;
}

error subscription_not_found(std::string_view id) {
    return error::field(errc::not_found, "no subscription with id " + std::string(id), "id", "exists");
}

error bad_delivery_cursor() {
    return error::field(errc::invalid_argument, "the cursor is not one this service gave", "cursor",
                        "opaque_cursor");
}

bool is_delivery_cursor(std::string_view text) noexcept {
    return text.size() == 26 && std::all_of(text.begin(), text.end(), [](char ch) {
               return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
           });
}

attempt_verdict judge(const attempt_report& r, const delivery& d, const retry_policy& p) noexcept {
    if (r.http_status && *r.http_status >= 200 && *r.http_status < 300) return attempt_verdict::delivered;
    if (r.http_status && *r.http_status == 410) return attempt_verdict::gone;
    if (!worth_retrying(r)) return attempt_verdict::rejected;
    if (r.at - d.created_at >= p.window) return attempt_verdict::rejected;
    return attempt_verdict::retry;
}

millis retry_delay(std::uint32_t failures, const retry_policy& p, double jitter01) noexcept {
    const std::uint32_t doublings = failures == 0 ? 0 : std::min<std::uint32_t>(failures - 1, 40);
    const double full =
        std::min(static_cast<double>(p.first_delay) * std::ldexp(1.0, static_cast<int>(doublings)),
                 static_cast<double>(p.max_delay));
    const double j = std::clamp(jitter01, 0.0, 1.0);
    return static_cast<millis>(full / 2 + full / 2 * j);
}

attempt_effect apply_attempt(const subscription& s, const delivery& d, const attempt_report& r,
                             const retry_policy& p, double jitter01) {
    attempt_effect e;
    switch (judge(r, d, p)) {
        case attempt_verdict::delivered:
            e.state = delivery_state::delivered;
            e.next_attempt_at = d.next_attempt_at;
            e.consecutive_failures = 0;
            e.paused_until = 0;
            return e;
        case attempt_verdict::gone:
            e.state = delivery_state::failed;
            e.next_attempt_at = d.next_attempt_at;
            e.consecutive_failures = s.consecutive_failures + 1;
            e.paused_until = s.paused_until;
            e.disable = true;
            e.disabled_reason = "the receiver answered 410 Gone";
            return e;
        case attempt_verdict::rejected:
        case attempt_verdict::retry: {
            const bool retry = judge(r, d, p) == attempt_verdict::retry;
            const bool answered_no = !worth_retrying(r);
            e.consecutive_failures = s.consecutive_failures + 1;
            const millis delay = retry_delay(e.consecutive_failures, p, jitter01);
            e.state = retry ? delivery_state::pending : delivery_state::failed;
            e.next_attempt_at = retry ? r.at + delay : d.next_attempt_at;
            // A receiver that is down makes the whole subscription wait, not only this delivery:
            // it is probed once per delay instead of once per pending delivery. One that answers
            // "no" to a delivery is up, and the others go on.
            e.paused_until = answered_no ? s.paused_until : r.at + delay;
            if (e.consecutive_failures >= p.disable_after) {
                e.disable = true;
                e.disabled_reason = std::to_string(e.consecutive_failures) + " consecutive failed attempts";
            }
            return e;
        }
    }
    return e;
}

void order_due(std::vector<delivery>& due) {
    std::sort(due.begin(), due.end(), [](const delivery& a, const delivery& b) {
        return std::tie(a.next_attempt_at, a.id) < std::tie(b.next_attempt_at, b.id);
    });
}

}  // namespace dinex::core

#pragma once
// Webhook subscriptions and their outbox (docs/NOTIFICATIONS.md): the records, the
// rules that decide what is delivered to whom and when it is tried again, and the port the local
// stores implement. Pure: signing, HTTP and SQL live in src/notify and src/store.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"
#include "core/ports.hpp"

namespace dinex::core {

// The state change an append made, if it made one: a new current state (outcome `created`).
// Late arrivals and replays change nothing a subscriber sees.
std::optional<notification> notification_of(const append_outcome& outcome);

struct subscription {
    std::string id;
    std::string url;
    std::vector<status> statuses;            // empty: every status
    std::optional<std::string> tracking_id;  // set: only this package
    std::string secret;                      // HMAC-SHA256 signing secret ("whsec_…")
    millis created_at = 0;
    bool enabled = true;
    std::optional<millis> disabled_at;
    std::string disabled_reason;             // why it was disabled; empty while enabled
    std::uint32_t consecutive_failures = 0;  // failed attempts since the last success
    millis paused_until = 0;                 // no attempt before this (backoff after a failure)
    std::optional<millis> last_success_at;
    friend bool operator==(const subscription&, const subscription&) = default;
};

// True when `s` wants `n`. Disabled subscriptions want nothing: they get no new deliveries.
bool wants(const subscription& s, const notification& n) noexcept;

enum class delivery_state : std::uint8_t { pending, delivered, failed };
std::string_view to_string(delivery_state s) noexcept;
std::optional<delivery_state> parse_delivery_state(std::string_view text) noexcept;

// One notification for one subscription: a row of the outbox.
struct delivery {
    std::string id;  // also the X-Dinex-Delivery header: receivers deduplicate on it
    std::string subscription_id;
    notification message;
    delivery_state state = delivery_state::pending;
    std::uint32_t attempts = 0;
    millis created_at = 0;
    millis next_attempt_at = 0;
    std::optional<millis> last_attempt_at;
    std::optional<int> last_http_status;  // of the last attempt that got an answer
    std::string last_error;               // of the last failed attempt
    friend bool operator==(const delivery&, const delivery&) = default;
};

struct retry_policy {
    millis first_delay = 1000;              // after the first failure
    millis max_delay = 60LL * 60 * 1000;    // the delay doubles up to this
    millis window = 24LL * 60 * 60 * 1000;  // a delivery is given up this long after it was made
    std::uint32_t disable_after = 40;       // consecutive failed attempts: about a day of them
};

// How one attempt went, as the dispatcher saw it.
struct attempt_report {
    std::optional<int> http_status;  // nullopt: no answer (connection refused, timeout, TLS …)
    std::string error;               // transport error or a short reason; empty on success
    millis at = 0;                   // when the attempt ended
};

enum class attempt_verdict {
    delivered,  // 2xx
    retry,      // no answer, 408, 429 or 5xx, inside the window: try again later
    rejected,   // any other status (the receiver refused this one), or the window is over
    gone,       // 410 Gone: the receiver asks for no more deliveries
};

attempt_verdict judge(const attempt_report& r, const delivery& d, const retry_policy& p) noexcept;

// The delay before the next attempt after `failures` consecutive failures (>= 1): first_delay
// doubled per failure up to max_delay, with "equal jitter" (half fixed, half random from
// `jitter01` in [0, 1)) so many subscriptions failing together do not retry in lockstep.
millis retry_delay(std::uint32_t failures, const retry_policy& p, double jitter01) noexcept;

// What one attempt changes: the delivery, and its subscription (failures, pause, disabling).
struct attempt_effect {
    delivery_state state = delivery_state::pending;
    millis next_attempt_at = 0;
    std::uint32_t consecutive_failures = 0;
    millis paused_until = 0;
    bool disable = false;
    std::string disabled_reason;
};
attempt_effect apply_attempt(const subscription& s, const delivery& d, const attempt_report& r,
                             const retry_policy& p, double jitter01);

// The errors every webhook_store gives for an unknown subscription and a cursor it did not make.
error subscription_not_found(std::string_view id);
error bad_delivery_cursor();
// Delivery ids, which are the cursors of delivery pages, are ULIDs.
bool is_delivery_cursor(std::string_view text) noexcept;

// A page of deliveries, newest first.
struct delivery_page {
    std::vector<delivery> items;
    std::optional<std::string> next_cursor;  // opaque; nullopt on the last page
};

struct outbox_counts {
    std::uint64_t pending = 0;
    std::uint64_t enabled_subscriptions = 0;
    std::uint64_t disabled_subscriptions = 0;
};

// Subscriptions and the outbox. Implemented by the local stores next to core::store: the outbox
// rows of an append are written in the same transaction as its event (see store::append).
class webhook_store {
public:
    virtual ~webhook_store() = default;

    // `conflict` when the id exists.
    virtual result<void> create_subscription(const subscription& s) = 0;
    virtual result<std::vector<subscription>> list_subscriptions() = 0;
    virtual result<std::optional<subscription>> find_subscription(std::string_view id) = 0;
    // Removes the subscription and its deliveries (pending ones are never sent). `not_found`.
    virtual result<void> delete_subscription(std::string_view id) = 0;
    // Enabling clears the failure count and the pause; pending deliveries are tried again.
    virtual result<subscription> set_enabled(std::string_view id, bool enabled, millis now,
                                             std::string_view reason) = 0;

    // Pending deliveries due at `now` of enabled, unpaused subscriptions, oldest first, at most
    // `limit`, leaving out the ids in `in_flight`.
    virtual result<std::vector<delivery>> due_deliveries(millis now, std::size_t limit,
                                                         const std::vector<std::string>& in_flight) = 0;
    // Records an attempt on the delivery and its effect (apply_attempt, on the subscription as it
    // is now) on both, atomically. `not_found` when the subscription is gone meanwhile.
    virtual result<attempt_effect> record_attempt(const delivery& d, const attempt_report& r,
                                                  const retry_policy& policy, double jitter01) = 0;
    // `cursor` from a previous page; `invalid_argument` (field cursor) for one that is not.
    virtual result<delivery_page> deliveries_of(std::string_view subscription_id, std::size_t limit,
                                                std::optional<std::string_view> cursor) = 0;
    virtual result<outbox_counts> counts() = 0;
    // Deletes delivered and failed deliveries whose last attempt is older than `before`.
    virtual result<std::size_t> purge_deliveries(millis before) = 0;
    // The earliest time a pending delivery of an enabled subscription becomes due (for the
    // dispatcher's sleep); nullopt when there is none.
    virtual result<std::optional<millis>> next_due() = 0;
    // `wake` runs (on the store's thread, briefly) after a commit that added deliveries.
    virtual void on_new_deliveries(std::function<void()> wake) = 0;
};

// The order deliveries are attempted in: the earliest due first, then by id (creation order).
void order_due(std::vector<delivery>& due);

}  // namespace dinex::core

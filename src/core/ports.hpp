#pragma once
// The seams between the domain and the world. Each has one implementation per back-end and a fake.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"

namespace dinex::core {

class clock {
public:
    virtual ~clock() = default;
    virtual millis now() = 0;
};

class id_generator {
public:
    virtual ~id_generator() = default;
    // Unique, URL-safe, sortable by creation time.
    virtual std::string next_id() = 0;
};

using append_callback = std::move_only_function<void(result<append_outcome>)>;
// One result per submission of a batch, in the order of the submissions.
using batch_callback = std::move_only_function<void(std::vector<result<append_outcome>>)>;

class webhook_store;  // core/webhooks.hpp

// Persistence of packages and their events. `append` must apply `decide` atomically with the
// writes it implies: two concurrent appends for one package behave as if one ran after the other.
class store {
public:
    virtual ~store() = default;

    // "sqlite", "memory", "dynamodb": reported by /health.
    virtual std::string_view backend_name() const noexcept = 0;

    // The package with at most `max_events` events, newest first; nullopt when unknown or expired
    // at `now`.
    virtual result<std::optional<package>> find(std::string_view tracking_id, millis now,
                                                std::size_t max_events) = 0;

    // Applies one submission. `done` runs exactly once, possibly on another thread, and only after
    // the outcome is durable.
    virtual void append(submission sub, const lifecycle_policy& policy, append_callback done) = 0;

    // Applies submissions in order, each exactly as `append` would (a later one sees the earlier
    // ones, so a duplicate inside the batch is a replay); one failing item never stops the others.
    // `done` runs exactly once, after every stored item is durable.
    virtual void append_batch(std::vector<submission> subs, const lifecycle_policy& policy,
                              batch_callback done) = 0;

    // The operator listing (see package_query), served by an index, never by reading every package.
    virtual result<package_page> list_packages(const package_query& q) = 0;

    // Every live package with its whole history, `limit` packages per page: for backups and
    // migration between stores. `cursor` is empty for the first page, else a previous `next`.
    virtual result<export_page> export_packages(std::string_view cursor, std::size_t limit, millis now) = 0;

    // Deletes packages (and their events) whose expires_at is before `now`; returns how many.
    virtual result<std::size_t> purge_expired(millis now) = 0;

    // A cheap round trip to the back-end for deep health checks.
    virtual result<void> ping() = 0;

    // Called once at shutdown: returns when every write already accepted is durable and its
    // callback has run, and the store's own threads are stopped; writes after it may fail as
    // unavailable. Pure, so that no store, and no decorator, can forget to drain (or forward).
    virtual void stop() = 0;

    // Webhook subscriptions and the outbox, for a store that writes outbox rows in the same
    // transaction as the events (the local stores); nullptr when it does not (DynamoDB: its
    // stream feeds SNS instead).
    virtual webhook_store* webhooks() noexcept { return nullptr; }
};

// One accepted state change, as subscribers receive it (`tracking.updated`, docs/NOTIFICATIONS.md).
struct notification {
    std::string tracking_id;
    status state = status::info_received;
    std::optional<status> previous;  // nullopt for a new package (or a new life after expiry)
    std::string location;
    millis timestamp = 0;  // of the event that made the change
    std::string event_id;  // that event: subscribers deduplicate on it (delivery is at-least-once)
    friend bool operator==(const notification&, const notification&) = default;
};

// Publishes notifications. `publish` returns only once the channel has accepted the message, or
// with an error after the back-end's own retries (`unavailable` when retrying later can help):
// callers acknowledge their source only on success, which is what makes delivery at-least-once.
class notifier {
public:
    virtual ~notifier() = default;
    virtual std::string_view backend_name() const noexcept = 0;  // "sns", "fake", ...
    virtual result<void> publish(const notification& n) = 0;
};

}  // namespace dinex::core

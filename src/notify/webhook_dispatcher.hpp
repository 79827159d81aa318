#pragma once
// Delivers the outbox (docs/NOTIFICATIONS.md): a coordinator thread takes due deliveries from the
// webhook store and hands them to a few worker threads, which POST the signed document and record
// each attempt back in the store. Everything it knows lives in the store, so a restart (or a
// kill -9) resumes where it was: a delivery is only marked delivered after the receiver said 2xx,
// hence at least once.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/http_client.hpp"
#include "core/ports.hpp"
#include "core/webhooks.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace dinex::notify {

struct dispatcher_options {
    std::size_t workers = 4;                   // deliveries in flight at most
    std::chrono::milliseconds timeout{10000};  // per attempt: connect, send, answer
    core::retry_policy retry;
    bool allow_private = false;  // deliver to loopback/private/link-local addresses
    std::string user_agent = "dinex-tracking-webhooks";
    core::millis history = 7LL * 24 * 60 * 60 * 1000;         // finished deliveries are kept this long
    std::size_t max_response_bytes = std::size_t{64} * 1024;  // of a receiver's answer (it is not read)
};

class webhook_dispatcher {
public:
    webhook_dispatcher(core::webhook_store& store, core::clock& clock, obs::logger& log,
                       dispatcher_options options);
    ~webhook_dispatcher();
    webhook_dispatcher(const webhook_dispatcher&) = delete;
    webhook_dispatcher& operator=(const webhook_dispatcher&) = delete;

    // Metrics: dinex_notifications_total{outcome}, dinex_notification_attempt_duration_seconds,
    // dinex_notifications_pending and dinex_webhook_subscriptions{state}, the last two read from the
    // store when scraped.
    void register_in(obs::registry& r) const;

    void start();
    // Lets the attempts under way finish (each is bounded by the timeout), then joins the threads.
    // Deliveries not attempted stay pending in the store for the next start.
    void stop();
    // Look for due deliveries now (the store calls it after committing new ones).
    void wake();

    static constexpr std::array<std::string_view, 3> outcomes = {"delivered", "retrying", "failed"};

private:
    void coordinate();
    void work();
    void attempt(const core::delivery& d);
    void purge_history(core::millis now);

    core::webhook_store& store_;
    core::clock& clock_;
    obs::logger& log_;
    dispatcher_options options_;
    aws::http_client http_;

    std::mutex mutex_;
    std::condition_variable coordinator_cv_;
    std::condition_variable workers_cv_;
    bool stopping_ = false;
    bool woken_ = false;
    std::deque<core::delivery> queue_;
    std::vector<std::string> in_flight_;  // ids queued or being attempted
    std::thread coordinator_;
    std::vector<std::thread> workers_;
    core::millis last_purge_ = 0;

    obs::counter_family attempts_;
    obs::histogram_family durations_;
    obs::gauge_family pending_;
    obs::gauge_family subscriptions_;
};

}  // namespace dinex::notify

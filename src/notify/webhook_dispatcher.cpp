#include "notify/webhook_dispatcher.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <random>

#include "notify/message.hpp"
#include "notify/webhook.hpp"

namespace dinex::notify {
namespace {

constexpr std::array<std::string_view, 2> subscription_states = {"enabled", "disabled"};
constexpr core::millis purge_interval = 60LL * 60 * 1000;
// When the store cannot say what is due next (or says nothing), look again after this long
// anyway: a clock step or a store error must not stall delivery.
constexpr core::millis longest_sleep = 5000;

aws::http_client_options client_options(const dispatcher_options& o) {
    aws::http_client_options h;
    h.connect_timeout = o.timeout;
    h.request_timeout = o.timeout;
    h.max_body_bytes = o.max_response_bytes;
    h.status_past_body_limit = true;  // a receiver's 2xx counts whatever it says after it
    h.max_idle_per_endpoint = o.workers;
    if (!o.allow_private) h.refuse_address = [](std::string_view a) { return refused_address(a); };
    return h;
}

double jitter() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

webhook_dispatcher::webhook_dispatcher(core::webhook_store& store, core::clock& clock, obs::logger& log,
                                       dispatcher_options options)
    : store_(store),
      clock_(clock),
      log_(log),
      options_(std::move(options)),
      http_(client_options(options_)),
      attempts_("dinex_notifications_total",
                "Webhook delivery attempts by outcome: delivered (2xx), retrying (failed, will be tried "
                "again) or failed (given up: refused by the receiver, 410 Gone, or out of retry time).",
                {{"outcome", outcomes}}),
      durations_("dinex_notification_attempt_duration_seconds",
                 "Time of one webhook delivery attempt, from connecting to the receiver's answer.", {},
                 obs::duration_buckets),
      pending_("dinex_notifications_pending",
               "Webhook deliveries waiting in the outbox (not yet delivered or given up).",
               [this] {
                   auto c = store_.counts();
                   if (!c) return std::vector<obs::sample>{};
                   return std::vector<obs::sample>{{"", {}, static_cast<double>(c->pending)}};
               }),
      subscriptions_("dinex_webhook_subscriptions", "Webhook subscriptions by state (enabled or disabled).",
                     [this] {
                         auto c = store_.counts();
                         if (!c) return std::vector<obs::sample>{};
                         return std::vector<obs::sample>{{"",
                                                          {{"state", std::string(subscription_states[0])}},
                                                          static_cast<double>(c->enabled_subscriptions)},
                                                         {"",
                                                          {{"state", std::string(subscription_states[1])}},
                                                          static_cast<double>(c->disabled_subscriptions)}};
                     }) {}

webhook_dispatcher::~webhook_dispatcher() { stop(); }

void webhook_dispatcher::register_in(obs::registry& r) const {
    r.add(attempts_);
    r.add(durations_);
    r.add(pending_);
    r.add(subscriptions_);
}

void webhook_dispatcher::start() {
    store_.on_new_deliveries([this] { wake(); });
    coordinator_ = std::thread([this] { coordinate(); });
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.workers); ++i) {
        workers_.emplace_back([this] { work(); });
    }
}

void webhook_dispatcher::stop() {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ && !coordinator_.joinable()) return;
        stopping_ = true;
        queue_.clear();  // not attempted: still pending in the store
    }
    store_.on_new_deliveries(nullptr);
    coordinator_cv_.notify_all();
    workers_cv_.notify_all();
    if (coordinator_.joinable()) coordinator_.join();
    for (auto& w : workers_) {
        if (w.joinable()) w.join();
    }
    workers_.clear();
}

void webhook_dispatcher::wake() {
    {
        const std::lock_guard lock(mutex_);
        woken_ = true;
    }
    coordinator_cv_.notify_one();
}

void webhook_dispatcher::coordinate() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        woken_ = false;
        // Keep every worker busy and one more delivery ready for each, no more: the rest waits
        // in the store, where it survives a crash.
        const std::size_t capacity = std::max<std::size_t>(1, options_.workers) * 2;
        const std::size_t room = in_flight_.size() < capacity ? capacity - in_flight_.size() : 0;
        std::vector<std::string> busy = in_flight_;
        lock.unlock();

        const core::millis now = clock_.now();
        if (now - last_purge_ >= purge_interval) purge_history(now);
        std::vector<core::delivery> due;
        if (room > 0) {
            auto found = store_.due_deliveries(now, room, busy);
            if (found) {
                due = std::move(*found);
            } else {
                log_.log(obs::level::warn, "webhook outbox unreadable",
                         {{"error", std::string_view(found.error().internal_message)}});
            }
        }
        core::millis wait = longest_sleep;
        if (room > 0 && due.size() < room) {
            // Everything due now is taken: sleep until the next delivery or pause ends.
            if (auto next = store_.next_due(); next && *next)
                wait = std::clamp<core::millis>(**next - now, 10, longest_sleep);
        }

        lock.lock();
        if (stopping_) break;
        for (auto& d : due) {
            in_flight_.push_back(d.id);
            queue_.push_back(std::move(d));
        }
        if (!due.empty()) workers_cv_.notify_all();
        // A full pipeline waits for a worker to finish (it wakes us); otherwise the timer.
        coordinator_cv_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stopping_ || woken_; });
    }
}

void webhook_dispatcher::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        workers_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        core::delivery d = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        attempt(d);
        lock.lock();
        std::erase(in_flight_, d.id);
        woken_ = true;
        coordinator_cv_.notify_one();
    }
}

void webhook_dispatcher::attempt(const core::delivery& d) {
    auto sub = store_.find_subscription(d.subscription_id);
    if (!sub || !*sub) return;  // deleted meanwhile (its deliveries went with it), or unreadable: next round
    // Taken before another attempt paused the subscription, or an admin disabled it: it waits in
    // the outbox, so a receiver that is down is probed once per delay, not once per queued delivery.
    if (!(*sub)->enabled || (*sub)->paused_until > clock_.now()) return;

    const std::string body = message_json(d.message);
    const std::string timestamp = std::to_string(clock_.now() / 1000);
    aws::http_request req;
    req.method = "POST";
    req.url = (*sub)->url;
    if (const auto parsed = boost::urls::parse_absolute_uri((*sub)->url)) {
        req.path = parsed->encoded_path().empty() ? std::string("/") : std::string(parsed->encoded_path());
        req.query = std::string(parsed->encoded_query());
    }
    req.headers = {{"Content-Type", "application/json"},
                   {"User-Agent", options_.user_agent},
                   {std::string(event_header), std::string(message_type)},
                   {std::string(delivery_header), d.id},
                   {std::string(attempt_header), std::to_string(d.attempts + 1)},
                   {std::string(timestamp_header), timestamp},
                   {std::string(signature_header), sign_delivery((*sub)->secret, timestamp, body)}};
    req.body = body;

    const auto t0 = std::chrono::steady_clock::now();
    auto answer = http_.send(req);
    durations_.observe(0, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    core::attempt_report report;
    report.at = clock_.now();
    if (answer) {
        report.http_status = answer->status;
        if (answer->status < 200 || answer->status >= 300)
            report.error = "HTTP " + std::to_string(answer->status);
    } else {
        report.error = answer.error().message;
    }
    auto effect = store_.record_attempt(d, report, options_.retry, jitter());
    if (!effect) {
        // The attempt is not recorded, so the delivery is still pending: it will be sent again
        // (receivers deduplicate on X-Dinex-Delivery).
        log_.log(obs::level::error, "webhook attempt not recorded",
                 {{"delivery_id", std::string_view(d.id)},
                  {"error", std::string_view(effect.error().internal_message.empty()
                                                 ? effect.error().message
                                                 : effect.error().internal_message)}});
        return;
    }
    const std::size_t outcome = effect->state == core::delivery_state::delivered ? 0
                                : effect->state == core::delivery_state::pending ? 1
                                                                                 : 2;
    attempts_.inc(attempts_.slot({outcome}));
    const auto lvl = outcome == 0 ? obs::level::debug : obs::level::warn;
    if (log_.enabled(lvl)) {
        log_.log(lvl, "webhook attempt",
                 {{"delivery_id", std::string_view(d.id)},
                  {"subscription_id", std::string_view(d.subscription_id)},
                  {"outcome", outcomes[outcome]},
                  {"attempt", static_cast<std::int64_t>(d.attempts + 1)},
                  {"http_status", static_cast<std::int64_t>(report.http_status.value_or(0))},
                  {"error", std::string_view(report.error)}});
    }
    if (effect->disable) {
        log_.log(obs::level::warn, "webhook subscription disabled",
                 {{"subscription_id", std::string_view(d.subscription_id)},
                  {"reason", std::string_view(effect->disabled_reason)}});
    }
}

void webhook_dispatcher::purge_history(core::millis now) {
    last_purge_ = now;
    auto removed = store_.purge_deliveries(now - options_.history);
    if (!removed) {
        log_.log(obs::level::warn, "webhook history purge failed",
                 {{"error", std::string_view(removed.error().internal_message)}});
    } else if (*removed > 0) {
        log_.log(obs::level::info, "webhook history purged",
                 {{"deliveries", static_cast<std::int64_t>(*removed)}});
    }
}

}  // namespace dinex::notify

#include "store/dynamodb/dynamodb_store.hpp"

#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::store {

namespace json = boost::json;
namespace items = dynamodb_items;
namespace schema = dynamodb_schema;

namespace {

core::error to_core_error(const std::string& table, const aws::aws_error& e) {
    if (e.retryable()) return core::error::unavailable_error("dynamodb: " + e.describe());
    if (e.kind == aws::error_kind::resource_not_found) {
        return core::error::unavailable_error("dynamodb: table " + table + " not found: " + e.describe());
    }
    return core::error::internal_error("dynamodb: " + e.describe());
}

json::object key_of(std::string_view tracking_id, std::string_view sk) {
    return json::object{{schema::partition_key, items::string(tracking_id)}, {schema::sort_key, items::string(sk)}};
}

std::string random_token() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 32; ++i) out += hex[rng() % 16];
    return out;
}

}  // namespace

struct dynamodb_store::impl {
    dynamodb_store_options options;
    aws::backoff contention{aws::retry_policy{std::chrono::milliseconds{5}, std::chrono::milliseconds{100}, 1}};

    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::move_only_function<void()>> queue;
    bool stopping = false;
    std::vector<std::thread> workers;

    explicit impl(dynamodb_store_options o) : options(std::move(o)) {}

    void work() {
        for (;;) {
            std::move_only_function<void()> job;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !queue.empty(); });
                if (queue.empty()) return;  // stopping and drained
                job = std::move(queue.front());
                queue.pop_front();
            }
            job();
        }
    }
};

dynamodb_store::dynamodb_store(dynamodb_store_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {
    const std::size_t n = std::max<std::size_t>(1, impl_->options.workers);
    for (std::size_t i = 0; i < n; ++i) impl_->workers.emplace_back([this] { impl_->work(); });
}

dynamodb_store::~dynamodb_store() { stop(); }

void dynamodb_store::stop() {
    {
        const std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    for (auto& t : impl_->workers) {
        if (t.joinable()) t.join();
    }
    impl_->workers.clear();
}

void dynamodb_store::append(core::submission sub, const core::lifecycle_policy& policy,
                            core::append_callback done) {
    std::unique_lock lock(impl_->mutex);
    if (impl_->stopping || impl_->workers.empty()) {
        lock.unlock();
        done(core::fail(core::error::unavailable_error("dynamodb store: stopped")));
        return;
    }
    if (impl_->queue.size() >= impl_->options.max_queue) {
        lock.unlock();
        done(core::fail(core::error::unavailable_error("dynamodb store: append queue full")));
        return;
    }
    impl_->queue.emplace_back([this, sub = std::move(sub), policy, done = std::move(done)]() mutable {
        done(append_now(sub, policy));
    });
    lock.unlock();
    impl_->wake.notify_one();
}

core::result<core::append_outcome> dynamodb_store::append_now(const core::submission& sub,
                                                              const core::lifecycle_policy& policy) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    const core::event& in = sub.incoming;
    const core::millis now = in.received_at;

    for (int round = 1; round <= impl_->options.max_rounds; ++round) {
        // 1. Read the state and this event's idempotency marker, consistently and together.
        const json::object read_request{
            {"TransactItems",
             json::array{
                 json::object{{"Get", json::object{{"TableName", table}, {"Key", key_of(in.tracking_id, items::state_sk)}}}},
                 json::object{{"Get", json::object{{"TableName", table},
                                                   {"Key", key_of(in.tracking_id, items::marker_sort_key(in.event_id))}}}},
             }},
        };
        const auto read = client.call("TransactGetItems", read_request);
        if (!read) return core::fail(to_core_error(table, read.error()));
        const json::object* state_item = nullptr;
        const json::object* marker_item = nullptr;
        if (const auto* responses = read->as_object().if_contains("Responses"); responses && responses->is_array()) {
            const auto& arr = responses->as_array();
            const auto item_at = [&](std::size_t i) -> const json::object* {
                if (i >= arr.size() || !arr[i].is_object()) return nullptr;
                const auto* it = arr[i].as_object().if_contains("Item");
                return it && it->is_object() ? &it->as_object() : nullptr;
            };
            state_item = item_at(0);
            marker_item = item_at(1);
        }

        std::optional<core::package_state> current;
        std::optional<std::int64_t> version;  // of the stored state item, expired or not
        if (state_item) {
            auto decoded = items::decode_state(*state_item);
            if (!decoded) return core::fail(core::error::internal_error("dynamodb: state of " + in.tracking_id + ": " + decoded.error()));
            version = decoded->version;
            // An expired package is gone, whether or not TTL has deleted it yet.
            if (decoded->state.expires_at >= now) current = std::move(decoded->state);
        }
        std::optional<core::event> same_id;
        // A marker counts only when it belongs to the current life of the package and is live.
        if (current && marker_item && items::expires_at_ms(*marker_item) >= now) {
            auto e = items::decode_event(*marker_item);
            if (!e) return core::fail(core::error::internal_error("dynamodb: marker of " + in.tracking_id + ": " + e.error()));
            if (e->received_at >= current->created_at) same_id = std::move(*e);
        }

        // 2. The rule, once for every store.
        auto outcome = core::decide(current, same_id, sub, policy);
        if (!outcome || outcome->kind == core::outcome_kind::replay) return outcome;

        // 3. One transaction: the event, its marker, the state — each conditional.
        const core::millis expires = outcome->state.expires_at;
        const json::object live_values{{":now", items::number(now)}};
        const auto put_new = [&](json::object item) {
            return json::object{{"Put", json::object{
                                            {"TableName", table},
                                            {"Item", std::move(item)},
                                            {"ConditionExpression", "attribute_not_exists(sk) OR expires_at_ms < :now"},
                                            {"ExpressionAttributeValues", live_values},
                                        }}};
        };
        json::object state_put{{"TableName", table},
                               {"Item", items::encode_state(outcome->state, version.value_or(0) + 1)}};
        if (version) {
            state_put["ConditionExpression"] = "version = :v";
            state_put["ExpressionAttributeValues"] = json::object{{":v", items::number(*version)}};
        } else {
            state_put["ConditionExpression"] = "attribute_not_exists(sk)";
        }
        const json::object write_request{
            {"ClientRequestToken", random_token()},
            {"TransactItems",
             json::array{put_new(items::encode_event(outcome->stored, expires)),
                         put_new(items::encode_marker(outcome->stored, expires)),
                         json::object{{"Put", std::move(state_put)}}}},
        };
        const auto written = client.call("TransactWriteItems", write_request);
        if (written) return outcome;
        if (!written.error().condition_failed()) return core::fail(to_core_error(table, written.error()));
        // Someone else wrote this package (or this very event) since we read: read and decide
        // again. The marker turns a concurrent or retried copy of this event into a replay.
        impl_->contention.wait(std::min(round, 5));
    }
    return core::fail(core::error::unavailable_error("dynamodb: too much contention on " + in.tracking_id));
}

core::result<std::optional<core::package>> dynamodb_store::find(std::string_view tracking_id, core::millis now,
                                                                std::size_t max_events) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    std::optional<core::package> out;
    std::optional<json::value> start_key;
    bool first_page = true;
    for (;;) {
        // Descending: STATE, then EVENT#… newest first; DEDUP#… markers sort below "EVENT#".
        const std::size_t wanted = out ? max_events - out->events.size() : max_events;
        json::object q{
            {"TableName", table},
            {"KeyConditionExpression", "tracking_id = :t AND sk >= :e"},
            {"ExpressionAttributeValues",
             json::object{{":t", items::string(tracking_id)}, {":e", items::string(items::event_prefix)}}},
            {"ScanIndexForward", false},
            {"ConsistentRead", true},
            {"Limit", static_cast<std::int64_t>(std::min<std::size_t>(wanted + 1, 1000))},
        };
        if (start_key) q["ExclusiveStartKey"] = *start_key;
        const auto page = client.call("Query", q);
        if (!page) return core::fail(to_core_error(table, page.error()));
        const auto& o = page->as_object();
        if (const auto* list = o.if_contains("Items"); list && list->is_array()) {
            for (const auto& v : list->as_array()) {
                if (!v.is_object()) continue;
                const auto& item = v.as_object();
                const auto* sk = item.if_contains(schema::sort_key);
                const bool is_state = sk && sk->is_object() && sk->as_object().if_contains("S") &&
                                      sk->as_object().at("S").as_string() == items::state_sk;
                if (is_state) {
                    auto s = items::decode_state(item);
                    if (!s) return core::fail(core::error::internal_error("dynamodb: state: " + s.error()));
                    if (s->state.expires_at < now) return std::nullopt;
                    out = core::package{std::move(s->state), {}};
                    continue;
                }
                if (first_page && !out) return std::nullopt;  // events without a state: not a package
                if (out->events.size() >= max_events) break;
                // Hide expired items (TTL deletes lazily) and leftovers of an earlier, expired life.
                if (items::expires_at_ms(item) < now) continue;
                auto e = items::decode_event(item);
                if (!e) return core::fail(core::error::internal_error("dynamodb: event: " + e.error()));
                if (e->received_at < out->state.created_at) continue;
                out->events.push_back(std::move(*e));
            }
        }
        first_page = false;
        if (!out) return std::nullopt;
        const auto* last = o.if_contains("LastEvaluatedKey");
        if (!last || !last->is_object() || out->events.size() >= max_events) break;
        start_key = *last;
    }
    return out;
}

core::result<std::size_t> dynamodb_store::purge_expired(core::millis) { return std::size_t{0}; }

core::result<void> dynamodb_store::ping() {
    const auto r = impl_->options.client->call("DescribeTable", json::object{{"TableName", impl_->options.table}});
    if (!r) return core::fail(to_core_error(impl_->options.table, r.error()));
    return {};
}

}  // namespace dinex::store

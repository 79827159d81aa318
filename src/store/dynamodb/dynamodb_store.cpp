#include "store/dynamodb/dynamodb_store.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_errors.hpp"
#include "store/dynamodb/dynamodb_reads.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::store {

namespace json = boost::json;
namespace items = dynamodb_items;

struct dynamodb_store::impl {
    dynamodb_store_options options;
    aws::backoff contention{
        aws::retry_policy{std::chrono::milliseconds{5}, std::chrono::milliseconds{100}, 1}};

    // Writes of one package from this process take turns (striped by tracking id), so they never
    // spend DynamoDB round trips losing the version race to each other; other processes' writes
    // are still ordered by the conditional put.
    std::array<std::mutex, 64> package_turns;

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

void dynamodb_store::append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                                  core::batch_callback done) {
    // Shared by the groups of one batch; the group that finishes last answers.
    struct batch_state {
        std::vector<core::result<core::append_outcome>> results;
        std::atomic<std::size_t> groups_left{0};
        core::batch_callback done;
        void group_finished() {
            if (groups_left.fetch_sub(1) == 1) done(std::move(results));
        }
    };
    auto state = std::make_shared<batch_state>();
    state->results.assign(subs.size(), core::result<core::append_outcome>(core::fail(
                                           core::error::internal_error("dynamodb: batch item not applied"))));
    state->done = std::move(done);

    // Groups in order of first appearance; positions in order within each group.
    std::vector<std::vector<std::size_t>> groups;
    std::unordered_map<std::string_view, std::size_t> group_of;
    for (std::size_t i = 0; i < subs.size(); ++i) {
        const auto [it, fresh] = group_of.try_emplace(subs[i].incoming.tracking_id, groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(i);
    }
    if (groups.empty()) {
        state->done(std::move(state->results));
        return;
    }
    state->groups_left = groups.size();
    for (auto& positions : groups) {
        std::vector<core::submission> group;
        group.reserve(positions.size());
        for (const std::size_t i : positions) group.push_back(std::move(subs[i]));
        std::unique_lock lock(impl_->mutex);
        const bool refused =
            impl_->stopping || impl_->workers.empty() || impl_->queue.size() >= impl_->options.max_queue;
        if (refused) {
            lock.unlock();
            for (const std::size_t i : positions) {
                state->results[i] = core::fail(
                    core::error::unavailable_error("dynamodb store: stopped or append queue full"));
            }
            state->group_finished();
            continue;
        }
        impl_->queue.emplace_back(
            [this, state, policy, positions = std::move(positions), group = std::move(group)]() mutable {
                auto out = append_group_now(group, policy);
                for (std::size_t k = 0; k < positions.size(); ++k)
                    state->results[positions[k]] = std::move(out[k]);
                state->group_finished();
            });
        lock.unlock();
        impl_->wake.notify_one();
    }
}

core::result<core::append_outcome> dynamodb_store::append_now(const core::submission& sub,
                                                              const core::lifecycle_policy& policy) {
    return std::move(append_group_now(std::vector<core::submission>{sub}, policy).front());
}

std::vector<core::result<core::append_outcome>> dynamodb_store::append_group_now(
    const std::vector<core::submission>& subs, const core::lifecycle_policy& policy) {
    std::vector<core::result<core::append_outcome>> out(
        subs.size(),
        core::result<core::append_outcome>(core::fail(core::error::internal_error("dynamodb: not applied"))));
    const std::size_t chunk = std::max<std::size_t>(1, impl_->options.batch_chunk);
    for (std::size_t first = 0; first < subs.size(); first += chunk) {
        apply_chunk(subs, first, std::min(subs.size(), first + chunk), policy, out);
    }
    return out;
}

namespace {

// Event items read with the state by a write: the newest few, so the events of the previous write
// are usually confirmed by the same Query (state + 8 events of a typical package: one 4 KB read unit).
constexpr std::int64_t newest_events_read = 8;

// The event id of an event item or pending entry ("" when absent).
std::string_view event_id_of(const json::object& item) { return items::string_attribute(item, "event_id"); }

}  // namespace

// subs[first, last) belong to one package (docs/DYNAMODB.md, "The write algorithm"). One Query reads
// the state and the newest events; the events the previous write left in the state's `pending`
// are made to exist; the rule is applied to each submission in turn (a later event sees the earlier
// ones), asking the stored event only for an id whose digest the state holds; then ONE conditional
// PutItem of the state (version compare-and-swap) commits the chunk, carrying the accepted events in
// `pending`; then the event items are written. A concurrent writer makes the put fail: the chunk is
// read and decided again.
void dynamodb_store::apply_chunk(const std::vector<core::submission>& subs, std::size_t first,
                                 std::size_t last, const core::lifecycle_policy& policy,
                                 std::vector<core::result<core::append_outcome>>& out) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    const std::string& tracking_id = subs[first].incoming.tracking_id;
    const core::millis now = subs[first].incoming.received_at;

    const auto fail_range = [&](const core::error& e) {
        for (std::size_t i = first; i < last; ++i) out[i] = core::fail(e);
    };
    const std::lock_guard turn(
        impl_->package_turns[std::hash<std::string>{}(tracking_id) % impl_->package_turns.size()]);

    for (int round = 1; round <= impl_->options.max_rounds; ++round) {
        // 1. Read the state and the newest events, consistently.
        const auto read = client.call(
            "Query", dynamodb_reads::newest_items_query(table, tracking_id, 1 + newest_events_read, true));
        if (!read) return fail_range(to_core_error(table, read.error()));
        const auto& answer = read->as_object();
        package_snapshot seen;
        for (const auto* item : items::page_items(answer)) {
            if (items::sort_key_of(*item) == items::state_sk) {
                seen.state_item = item;
            } else {
                seen.events.push_back(item);
            }
        }
        seen.all_events = !answer.contains("LastEvaluatedKey");

        std::optional<core::package_state> current;
        std::optional<std::int64_t> version;  // of the stored state item, expired or not
        items::state_extras extras;           // of the current life
        if (seen.state_item) {
            auto decoded = items::decode_state(*seen.state_item);
            if (!decoded) {
                return fail_range(core::error::internal_error("dynamodb: state of " + tracking_id + ": " +
                                                              decoded.error()));
            }
            version = decoded->version;
            // An expired package is gone, whether or not TTL has deleted it yet: a new life starts.
            if (decoded->state.expires_at >= now) {
                current = std::move(decoded->state);
                extras = std::move(decoded->extras);
                // A state written before `event_ids` existed: its events have DEDUP# markers.
                if (!extras.event_id_digests) extras.legacy_markers = true;
            }
        }

        // 2. The rule, once for every store, item after item.
        std::string digests = extras.event_id_digests.value_or(std::string{});
        std::vector<json::object> written;                           // the new state's `pending`
        std::unordered_map<std::string_view, core::event> accepted;  // in this chunk, by event_id
        for (std::size_t i = first; i < last; ++i) {
            const core::submission& sub = subs[i];
            const core::event& in = sub.incoming;
            std::optional<core::event> same_id;
            if (const auto a = accepted.find(in.event_id); a != accepted.end()) {
                same_id = a->second;
            } else if (current) {
                auto stored = stored_event(tracking_id, in.event_id, digests, extras, seen, *current, now);
                if (!stored) return fail_range(stored.error());
                same_id = std::move(*stored);
            }
            out[i] = core::decide(current, same_id, sub, policy);
            if (!out[i] || out[i]->kind == core::outcome_kind::replay) continue;
            written.push_back(
                items::pending_form(items::encode_event(out[i]->stored, out[i]->state.expires_at)));
            digests += items::event_id_digest(in.event_id);
            current = out[i]->state;
            accepted.emplace(in.event_id, out[i]->stored);
        }
        if (written.empty()) return;  // replays and refusals only: nothing to write

        // 3. The previous write's events exist before the new state stops carrying them.
        if (!extras.pending.empty()) {
            if (auto made = make_pending_exist(tracking_id, extras.pending, seen); !made) {
                for (std::size_t i = first; i < last; ++i) {
                    if (out[i] && out[i]->kind != core::outcome_kind::replay)
                        out[i] = core::fail(made.error());
                }
                return;
            }
        }

        // 4. Commit: the state, conditional on the version read, carrying the accepted events.
        items::state_extras next;
        next.event_id_digests = std::move(digests);
        next.legacy_markers = extras.legacy_markers;
        next.pending = std::move(written);
        json::object state_put{{"TableName", table},
                               {"Item", items::encode_state(*current, version.value_or(0) + 1, next)}};
        if (version) {
            state_put["ConditionExpression"] = "version = :v";
            state_put["ExpressionAttributeValues"] = json::object{{":v", items::number(*version)}};
        } else {
            state_put["ConditionExpression"] = "attribute_not_exists(sk)";
        }
        const auto committed = client.call("PutItem", state_put);
        if (!committed) {
            if (committed.error().condition_failed()) {
                // Someone else wrote this package since we read: read and decide again.
                impl_->contention.wait(std::min(round, 5));
                continue;
            }
            const core::error e = to_core_error(table, committed.error());
            for (std::size_t i = first; i < last; ++i) {
                if (out[i] && out[i]->kind != core::outcome_kind::replay) out[i] = core::fail(e);
            }
            return;
        }

        // 5. The event items. The append is already durable: a failure here leaves them in the
        // state's `pending`, where readers find them and the package's next write puts them again.
        put_events(tracking_id, next.pending);
        return;
    }
    fail_range(core::error::unavailable_error("dynamodb: too much contention on " + tracking_id));
}

core::result<void> dynamodb_store::make_pending_exist(const std::string& tracking_id,
                                                      const std::vector<json::object>& pending,
                                                      const package_snapshot& seen) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    std::vector<json::object> missing;
    for (const auto& p : pending) {
        const std::string_view sk = items::sort_key_of(p);
        const auto same = std::find_if(seen.events.begin(), seen.events.end(),
                                       [&](const json::object* e) { return items::sort_key_of(*e) == sk; });
        if (same != seen.events.end()) {
            if (event_id_of(**same) != event_id_of(p)) missing.push_back(p);  // a leftover of an expired life
            continue;
        }
        // The Query returned every event item above its last one: an absent key sorting there is missing.
        if (seen.all_events || (!seen.events.empty() && sk > items::sort_key_of(*seen.events.back()))) {
            missing.push_back(p);
            continue;
        }
        const auto got = client.call("GetItem", json::object{{"TableName", table},
                                                             {"Key", items::key(tracking_id, sk)},
                                                             {"ConsistentRead", true},
                                                             {"ProjectionExpression", "event_id"}});
        if (!got) return core::fail(to_core_error(table, got.error()));
        const auto* item = got->as_object().if_contains("Item");
        if (!item || !item->is_object() || event_id_of(item->as_object()) != event_id_of(p))
            missing.push_back(p);
    }
    for (const auto& p : missing) {
        const auto put = client.call(
            "PutItem", json::object{{"TableName", table}, {"Item", items::event_item_of(p, tracking_id)}});
        if (!put) return core::fail(to_core_error(table, put.error()));
    }
    return {};
}

void dynamodb_store::put_events(const std::string& tracking_id, const std::vector<json::object>& pending) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    if (pending.size() == 1) {
        (void)client.call(
            "PutItem",
            json::object{{"TableName", table}, {"Item", items::event_item_of(pending.front(), tracking_id)}});
        return;
    }
    // BatchWriteItem: up to 25 puts a call; what it leaves unprocessed is sent again a few times.
    for (std::size_t at = 0; at < pending.size(); at += 25) {
        json::array requests;
        for (std::size_t i = at; i < std::min(pending.size(), at + 25); ++i) {
            requests.push_back(json::object{
                {"PutRequest", json::object{{"Item", items::event_item_of(pending[i], tracking_id)}}}});
        }
        json::object batch{{"RequestItems", json::object{{table, std::move(requests)}}}};
        for (int attempt = 1; attempt <= 4; ++attempt) {
            const auto r = client.call("BatchWriteItem", batch);
            if (!r) return;
            const auto* left = r->as_object().if_contains("UnprocessedItems");
            if (!left || !left->is_object() || left->as_object().empty()) break;
            batch["RequestItems"] = *left;
            impl_->contention.wait(attempt);
        }
    }
}

core::result<std::optional<core::event>> dynamodb_store::stored_event(
    const std::string& tracking_id, std::string_view event_id, std::string_view digests,
    const items::state_extras& extras, const package_snapshot& seen, const core::package_state& current,
    core::millis now) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    // An item counts only when it is live and belongs to the current life of the package.
    const auto event_from = [&](const json::object& item) -> core::result<std::optional<core::event>> {
        if (items::expires_at_ms(item) < now) return std::optional<core::event>{};
        auto e = items::decode_event(item);
        if (!e)
            return core::fail(
                core::error::internal_error("dynamodb: event of " + tracking_id + ": " + e.error()));
        if (e->received_at < current.created_at) return std::optional<core::event>{};
        return std::optional<core::event>{std::move(*e)};
    };
    if (items::has_digest(digests, items::event_id_digest(event_id))) {
        for (const auto& p : extras.pending) {
            if (event_id_of(p) == event_id) return event_from(items::event_item_of(p, tracking_id));
        }
        for (const auto* e : seen.events) {
            if (event_id_of(*e) == event_id) return event_from(*e);
        }
        if (!seen.all_events) {
            // An older event: look through the history (a retry of an event that is not the newest).
            json::object q{
                {"TableName", table},
                {"KeyConditionExpression", "tracking_id = :t AND begins_with(sk, :e)"},
                {"FilterExpression", "event_id = :id"},
                {"ExpressionAttributeValues", json::object{{":t", items::string(tracking_id)},
                                                           {":e", items::string(items::event_prefix)},
                                                           {":id", items::string(event_id)}}},
                {"ConsistentRead", true},
            };
            for (;;) {
                const auto page = client.call("Query", q);
                if (!page) return core::fail(to_core_error(table, page.error()));
                for (const auto* e : items::page_items(page->as_object())) {
                    if (event_id_of(*e) == event_id) return event_from(*e);
                }
                const auto* next = page->as_object().if_contains("LastEvaluatedKey");
                if (!next || !next->is_object()) break;
                q["ExclusiveStartKey"] = *next;
            }
        }
        // Not found: the digest of another id (or of an event that expired).
    }
    if (!extras.legacy_markers) return std::optional<core::event>{};
    // Events written before the digests existed have a DEDUP# marker.
    const auto got = client.call(
        "GetItem", json::object{{"TableName", table},
                                {"Key", items::key(tracking_id, items::marker_sort_key(event_id))},
                                {"ConsistentRead", true}});
    if (!got) return core::fail(to_core_error(table, got.error()));
    const auto* item = got->as_object().if_contains("Item");
    if (!item || !item->is_object()) return std::optional<core::event>{};
    return event_from(item->as_object());
}

core::result<core::package_page> dynamodb_store::list_packages(const core::package_query& q) {
    return dynamodb_reads::list_packages(*impl_->options.client, impl_->options.table, q);
}

core::result<core::export_page> dynamodb_store::export_packages(std::string_view cursor, std::size_t limit,
                                                                core::millis now) {
    return dynamodb_reads::export_packages(*impl_->options.client, impl_->options.table, cursor, limit, now);
}

core::result<std::optional<core::package>> dynamodb_store::find(std::string_view tracking_id,
                                                                core::millis now, std::size_t max_events) {
    return dynamodb_reads::read_package(*impl_->options.client, impl_->options.table, tracking_id, now,
                                        max_events, impl_->options.consistent_lookups);
}

core::result<std::size_t> dynamodb_store::purge_expired(core::millis) { return std::size_t{0}; }

core::result<void> dynamodb_store::ping() {
    const auto r =
        impl_->options.client->call("DescribeTable", json::object{{"TableName", impl_->options.table}});
    if (!r) return core::fail(to_core_error(impl_->options.table, r.error()));
    return {};
}

}  // namespace dinex::store

#include "store/dynamodb/dynamodb_store.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <unordered_map>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "aws/dynamodb_client.hpp"
#include "core/listing.hpp"
#include "store/dynamodb/dynamodb_errors.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::store {

namespace json = boost::json;
namespace items = dynamodb_items;
namespace schema = dynamodb_schema;

namespace {

// The package states of a Query or Scan answer over state items, in answer order.
core::result<std::vector<core::package_state>> states_in(const json::object& answer) {
    std::vector<core::package_state> out;
    for (const auto* item : items::page_items(answer)) {
        auto decoded = items::decode_state(*item);
        if (!decoded) return core::fail(core::error::internal_error("dynamodb: state: " + decoded.error()));
        out.push_back(std::move(decoded->state));
    }
    return out;
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
    state->results.assign(subs.size(), core::result<core::append_outcome>(
                                           core::fail(core::error::internal_error("dynamodb: batch item not applied"))));
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
        const bool refused = impl_->stopping || impl_->workers.empty() ||
                             impl_->queue.size() >= impl_->options.max_queue;
        if (refused) {
            lock.unlock();
            for (const std::size_t i : positions) {
                state->results[i] = core::fail(core::error::unavailable_error("dynamodb store: stopped or append queue full"));
            }
            state->group_finished();
            continue;
        }
        impl_->queue.emplace_back([this, state, policy, positions = std::move(positions), group = std::move(group)]() mutable {
            auto out = append_group_now(group, policy);
            for (std::size_t k = 0; k < positions.size(); ++k) state->results[positions[k]] = std::move(out[k]);
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
        subs.size(), core::result<core::append_outcome>(core::fail(core::error::internal_error("dynamodb: not applied"))));
    const std::size_t chunk = std::max<std::size_t>(1, impl_->options.batch_chunk);
    for (std::size_t first = 0; first < subs.size(); first += chunk) {
        apply_chunk(subs, first, std::min(subs.size(), first + chunk), policy, out);
    }
    return out;
}

// subs[first, last) belong to one package. One strongly consistent GetItem of its state, the rule
// applied to each event in turn (a later event sees the earlier ones), then one transaction: every
// accepted event and its idempotency marker, conditional on being new, and the final state,
// conditional on the version read. The markers are read only when they can change the answer: an
// event naming the state's latest event_id (a retry of the last request), an event the rule
// refuses (it may be a replay instead), or a marker whose put failed (a concurrent or retried
// copy). Then state and those markers are read together (TransactGetItems, one snapshot) and the
// chunk is decided again. A concurrent writer makes the transaction fail as a whole; the chunk is
// then read and decided again.
void dynamodb_store::apply_chunk(const std::vector<core::submission>& subs, std::size_t first, std::size_t last,
                                 const core::lifecycle_policy& policy,
                                 std::vector<core::result<core::append_outcome>>& out) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    const std::string& tracking_id = subs[first].incoming.tracking_id;
    const core::millis now = subs[first].incoming.received_at;

    const auto fail_range = [&](const core::error& e) {
        for (std::size_t i = first; i < last; ++i) out[i] = core::fail(e);
    };
    // Distinct event ids whose markers are read (TransactGetItems refuses the same key twice).
    std::vector<std::string_view> wanted;
    const auto want = [&](std::string_view id) {
        if (std::find(wanted.begin(), wanted.end(), id) != wanted.end()) return false;
        wanted.push_back(id);
        return true;
    };

    for (int round = 1; round <= impl_->options.max_rounds; ++round) {
        // 1. Read the state (and the markers wanted), consistently.
        const json::object* state_item = nullptr;
        std::unordered_map<std::string_view, const json::object*> markers;  // read, by event_id
        json::value read;
        if (wanted.empty()) {
            auto r = client.call("GetItem", json::object{{"TableName", table},
                                                         {"Key", key_of(tracking_id, items::state_sk)},
                                                         {"ConsistentRead", true}});
            if (!r) return fail_range(to_core_error(table, r.error()));
            read = std::move(*r);
            if (const auto* it = read.as_object().if_contains("Item"); it && it->is_object()) state_item = &it->as_object();
        } else {
            json::array gets;
            gets.push_back(json::object{{"Get", json::object{{"TableName", table}, {"Key", key_of(tracking_id, items::state_sk)}}}});
            for (const auto id : wanted) {
                gets.push_back(json::object{{"Get", json::object{{"TableName", table},
                                                                 {"Key", key_of(tracking_id, items::marker_sort_key(id))}}}});
            }
            auto r = client.call("TransactGetItems", json::object{{"TransactItems", std::move(gets)}});
            if (!r) return fail_range(to_core_error(table, r.error()));
            read = std::move(*r);
            if (const auto* responses = read.as_object().if_contains("Responses"); responses && responses->is_array()) {
                const auto& arr = responses->as_array();
                for (std::size_t i = 0; i < arr.size() && i <= wanted.size(); ++i) {
                    if (!arr[i].is_object()) continue;
                    const auto* it = arr[i].as_object().if_contains("Item");
                    if (!it || !it->is_object()) continue;
                    if (i == 0) {
                        state_item = &it->as_object();
                    } else {
                        markers.emplace(wanted[i - 1], &it->as_object());
                    }
                }
            }
        }

        std::optional<core::package_state> current;
        std::optional<std::int64_t> version;  // of the stored state item, expired or not
        if (state_item) {
            auto decoded = items::decode_state(*state_item);
            if (!decoded) {
                return fail_range(core::error::internal_error("dynamodb: state of " + tracking_id + ": " + decoded.error()));
            }
            version = decoded->version;
            // An expired package is gone, whether or not TTL has deleted it yet.
            if (decoded->state.expires_at >= now) current = std::move(decoded->state);
        }
        // A retry of the package's latest event: its marker decides (a replay, not a new event).
        bool read_again = false;
        if (current) {
            for (std::size_t i = first; i < last; ++i) {
                if (subs[i].incoming.event_id == current->event_id && want(subs[i].incoming.event_id)) read_again = true;
            }
        }
        if (read_again) continue;

        // 2. The rule, once for every store, item after item.
        std::unordered_map<std::string_view, core::event> accepted;  // in this chunk, by event_id
        json::array writes;
        std::vector<std::string_view> marker_at;  // the event_id of each write that is a marker put
        const json::object live_values{{":now", items::number(now)}};
        const auto put_new = [&](json::object item, std::string_view condition, json::object values) {
            return json::object{{"Put", json::object{
                                            {"TableName", table},
                                            {"Item", std::move(item)},
                                            {"ConditionExpression", condition},
                                            {"ExpressionAttributeValues", std::move(values)},
                                        }}};
        };
        bool broken_marker = false;
        for (std::size_t i = first; i < last && !broken_marker && !read_again; ++i) {
            const core::submission& sub = subs[i];
            const core::event& in = sub.incoming;
            std::optional<core::event> same_id;
            const bool marker_read = markers.contains(in.event_id) ||
                                     std::find(wanted.begin(), wanted.end(), std::string_view(in.event_id)) != wanted.end();
            if (const auto a = accepted.find(in.event_id); a != accepted.end()) {
                same_id = a->second;
            } else if (const auto m = markers.find(in.event_id); m != markers.end()) {
                // A marker counts only when it belongs to the current life of the package and is live.
                if (current && items::expires_at_ms(*m->second) >= in.received_at) {
                    auto e = items::decode_event(*m->second);
                    if (!e) {
                        out[i] = core::fail(core::error::internal_error("dynamodb: marker of " + tracking_id + ": " + e.error()));
                        broken_marker = true;
                        break;
                    }
                    if (e->received_at >= current->created_at) same_id = std::move(*e);
                }
            }
            out[i] = core::decide(current, same_id, sub, policy);
            if (!out[i] && !same_id && !marker_read) {
                // Refused as a new event; it may be a replay of an earlier one: ask its marker.
                want(in.event_id);
                read_again = true;
                break;
            }
            if (!out[i] || out[i]->kind == core::outcome_kind::replay) continue;
            const core::millis expires = out[i]->state.expires_at;
            writes.push_back(put_new(items::encode_event(out[i]->stored, expires),
                                     "attribute_not_exists(sk) OR expires_at_ms < :now", live_values));
            // A marker left by an earlier, expired life of the package (received before this life
            // began) is overwritten too: it would otherwise refuse this event forever.
            writes.push_back(put_new(items::encode_marker(out[i]->stored, expires),
                                     "attribute_not_exists(sk) OR expires_at_ms < :now OR received_at < :born",
                                     json::object{{":now", items::number(now)},
                                                  {":born", items::number(out[i]->state.created_at)}}));
            marker_at.resize(writes.size());
            marker_at.back() = in.event_id;
            current = out[i]->state;
            accepted.emplace(in.event_id, out[i]->stored);
        }
        if (broken_marker) {
            return fail_range(core::error::internal_error("dynamodb: unreadable idempotency marker in " + tracking_id));
        }
        if (read_again) continue;
        if (writes.empty()) return;  // replays and refusals only: nothing to write

        // 3. One transaction: the events, their markers, the state — each conditional.
        json::object state_put{{"TableName", table}, {"Item", items::encode_state(*current, version.value_or(0) + 1)}};
        if (version) {
            state_put["ConditionExpression"] = "version = :v";
            state_put["ExpressionAttributeValues"] = json::object{{":v", items::number(*version)}};
        } else {
            state_put["ConditionExpression"] = "attribute_not_exists(sk)";
        }
        writes.push_back(json::object{{"Put", std::move(state_put)}});
        const json::object write_request{{"ClientRequestToken", random_token()}, {"TransactItems", std::move(writes)}};
        const auto written = client.call("TransactWriteItems", write_request);
        if (written) return;
        if (!written.error().condition_failed()) {
            const core::error e = to_core_error(table, written.error());
            for (std::size_t i = first; i < last; ++i) {
                if (out[i] && out[i]->kind != core::outcome_kind::replay) out[i] = core::fail(e);
            }
            return;
        }
        // Someone else wrote this package (or these very events) since we read. A marker that
        // refused its put names a copy of an event written meanwhile (or a retry of one whose
        // answer was lost): read it, and the event becomes a replay. Without reasons, read every
        // marker of the chunk.
        const auto& reasons = written.error().cancellation_reasons;
        bool named = false;
        for (std::size_t k = 0; k < reasons.size() && k < marker_at.size(); ++k) {
            if (!marker_at[k].empty() && reasons[k] == "ConditionalCheckFailed") {
                want(marker_at[k]);
                named = true;
            }
        }
        if (reasons.empty()) {
            for (std::size_t i = first; i < last; ++i) want(subs[i].incoming.event_id);
        }
        if (!named) impl_->contention.wait(std::min(round, 5));
    }
    fail_range(core::error::unavailable_error("dynamodb: too much contention on " + tracking_id));
}

core::result<core::package_page> dynamodb_store::list_packages(const core::package_query& q) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    const core::package_cursor bound = core::listing_bound(q);
    std::vector<core::status> statuses = q.statuses;
    if (statuses.empty()) statuses.assign(core::all_statuses.begin(), core::all_statuses.end());

    std::vector<core::package_state> rows;
    for (const core::status st : statuses) {
        json::object query{
            {"TableName", table},
            {"IndexName", schema::status_index},
            {"KeyConditionExpression", "gsi_status = :s AND gsi_updated_at <= :u"},
            {"FilterExpression", "expires_at_ms >= :now"},
            {"ExpressionAttributeValues", json::object{{":s", items::string(core::to_string(st))},
                                                       {":u", items::number(bound.updated_at)},
                                                       {":now", items::number(q.now)}}},
            {"ScanIndexForward", false},
            {"Limit", static_cast<std::int64_t>(std::min<std::size_t>(q.limit + 1, 1000))},
        };
        std::size_t taken = 0;
        // The index orders by updated_at only: once limit + 1 rows are in, keep reading the rows
        // that tie with the last one, so the merge below sees every candidate for the cut.
        std::optional<core::millis> cut;
        bool done = false;
        while (!done) {
            const auto page = client.call("Query", query);
            if (!page) return core::fail(to_core_error(table, page.error()));
            const auto& o = page->as_object();
            auto states = states_in(o);
            if (!states) return core::fail(std::move(states.error()));
            for (core::package_state& s : *states) {
                if (cut && s.updated_at < *cut) {
                    done = true;
                    break;
                }
                if (s.expires_at < q.now || !core::listed_after(s, bound)) continue;
                if (++taken == q.limit + 1) cut = s.updated_at;
                rows.push_back(std::move(s));
            }
            const auto* last = o.if_contains("LastEvaluatedKey");
            if (!last || !last->is_object()) break;
            query["ExclusiveStartKey"] = *last;
        }
    }
    return core::listing_page(std::move(rows), q.limit);
}

core::result<core::export_page> dynamodb_store::export_packages(std::string_view cursor, std::size_t limit,
                                                                core::millis now) {
    auto& client = *impl_->options.client;
    const std::string& table = impl_->options.table;
    json::object scan{
        {"TableName", table},
        {"FilterExpression", "sk = :state AND expires_at_ms >= :now"},
        {"ExpressionAttributeValues", json::object{{":state", items::string(items::state_sk)}, {":now", items::number(now)}}},
        {"Limit", static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 1000))},
        {"ConsistentRead", true},
    };
    if (!cursor.empty()) {
        json::error_code ec;
        const auto start = json::parse(cursor, ec);
        if (ec || !start.is_object()) {
            return core::fail(core::error::field(core::errc::invalid_argument, "the export cursor is not valid", "cursor", "opaque"));
        }
        scan["ExclusiveStartKey"] = start;
    }
    const auto page = client.call("Scan", scan);
    if (!page) return core::fail(to_core_error(table, page.error()));
    core::export_page out;
    const auto& o = page->as_object();
    auto states = states_in(o);
    if (!states) return core::fail(std::move(states.error()));
    for (const core::package_state& s : *states) {
        auto p = find(s.tracking_id, now, std::numeric_limits<std::uint32_t>::max());
        if (!p) return core::fail(std::move(p.error()));
        if (*p) out.packages.push_back(std::move(**p));
    }
    if (const auto* last = o.if_contains("LastEvaluatedKey"); last && last->is_object()) out.next = json::serialize(*last);
    return out;
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
        for (const auto* found : items::page_items(o)) {
            const auto& item = *found;
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

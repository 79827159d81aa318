#include "store/dynamodb/dynamodb_reads.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <utility>
#include <vector>

#include "aws/dynamodb_client.hpp"
#include "core/listing.hpp"
#include "store/dynamodb/dynamodb_errors.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::store::dynamodb_reads {

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

}  // namespace

json::object newest_items_query(const std::string& table, std::string_view tracking_id, std::int64_t limit,
                                bool consistent) {
    return json::object{
        {"TableName", table},
        {"KeyConditionExpression", "tracking_id = :t AND sk >= :e"},
        {"ExpressionAttributeValues",
         json::object{{":t", items::string(tracking_id)}, {":e", items::string(items::event_prefix)}}},
        {"ScanIndexForward", false},
        {"ConsistentRead", consistent},
        {"Limit", limit},
    };
}

core::result<core::package_page> list_packages(aws::dynamodb_client& client, const std::string& table,
                                               const core::package_query& q) {
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

core::result<core::export_page> export_packages(aws::dynamodb_client& client, const std::string& table,
                                                std::string_view cursor, std::size_t limit,
                                                core::millis now) {
    json::object scan{
        {"TableName", table},
        {"FilterExpression", "sk = :state AND expires_at_ms >= :now"},
        {"ExpressionAttributeValues",
         json::object{{":state", items::string(items::state_sk)}, {":now", items::number(now)}}},
        {"Limit", static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 1000))},
        {"ConsistentRead", true},
    };
    if (!cursor.empty()) {
        json::error_code ec;
        const auto start = json::parse(cursor, ec);
        if (ec || !start.is_object()) {
            return core::fail(core::error::field(core::errc::invalid_argument,
                                                 "the export cursor is not valid", "cursor", "opaque"));
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
        auto p =
            read_package(client, table, s.tracking_id, now, std::numeric_limits<std::uint32_t>::max(), true);
        if (!p) return core::fail(std::move(p.error()));
        if (*p) out.packages.push_back(std::move(**p));
    }
    if (const auto* last = o.if_contains("LastEvaluatedKey"); last && last->is_object())
        out.next = json::serialize(*last);
    return out;
}

core::result<std::optional<core::package>> read_package(aws::dynamodb_client& client,
                                                        const std::string& table,
                                                        std::string_view tracking_id, core::millis now,
                                                        std::size_t max_events, bool consistent) {
    std::optional<core::package> out;
    std::vector<json::object> pending;  // the state's: events whose own items may not exist yet
    std::optional<json::value> start_key;
    bool first_page = true;
    bool read_all = false;  // every event item of the package was read
    for (;;) {
        const std::size_t wanted = out ? max_events - out->events.size() : max_events;
        json::object q = newest_items_query(
            table, tracking_id, static_cast<std::int64_t>(std::min<std::size_t>(wanted + 1, 1000)),
            consistent);
        if (start_key) q["ExclusiveStartKey"] = *start_key;
        const auto page = client.call("Query", q);
        if (!page) return core::fail(to_core_error(table, page.error()));
        const auto& o = page->as_object();
        for (const auto* found : items::page_items(o)) {
            const auto& item = *found;
            if (items::sort_key_of(item) == items::state_sk) {
                auto s = items::decode_state(item);
                if (!s) return core::fail(core::error::internal_error("dynamodb: state: " + s.error()));
                if (s->state.expires_at < now) return std::nullopt;
                out = core::package{std::move(s->state), {}};
                pending = std::move(s->extras.pending);
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
        if (!last || !last->is_object()) {
            read_all = true;
            break;
        }
        if (out->events.size() >= max_events) break;
        start_key = *last;
    }
    // The last write's events, in case their items are not written yet (docs/DYNAMODB.md): one
    // belongs in the answer when every event was read, or when it sorts above the oldest one read.
    const auto newer = [](const core::event& a, const core::event& b) {
        return std::pair(a.timestamp, a.sequence) > std::pair(b.timestamp, b.sequence);
    };
    bool merged = false;
    for (const auto& p : pending) {
        const auto item = items::event_item_of(p, tracking_id);
        if (items::expires_at_ms(item) < now) continue;
        auto e = items::decode_event(item);
        if (!e) return core::fail(core::error::internal_error("dynamodb: pending event: " + e.error()));
        if (e->received_at < out->state.created_at) continue;
        const bool present = std::any_of(out->events.begin(), out->events.end(), [&](const core::event& x) {
            return x.timestamp == e->timestamp && x.sequence == e->sequence;
        });
        if (present) continue;
        if (read_all || (!out->events.empty() && newer(*e, out->events.back()))) {
            out->events.push_back(std::move(*e));
            merged = true;
        }
    }
    if (merged) {
        std::sort(out->events.begin(), out->events.end(), newer);
        if (out->events.size() > max_events) out->events.resize(max_events);
    }
    return out;
}

}  // namespace dinex::store::dynamodb_reads

#include "store/dynamodb/dynamodb_access.hpp"

#include <algorithm>
#include <charconv>

#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_errors.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::store {
namespace {

namespace json = boost::json;
namespace items = dynamodb_items;
namespace schema = dynamodb_schema;

const json::string* attr(const json::object& item, std::string_view name, std::string_view type) {
    const auto* v = item.if_contains(name);
    if (!v || !v->is_object()) return nullptr;
    const auto* t = v->get_object().if_contains(type);
    return t && t->is_string() ? &t->get_string() : nullptr;
}

std::optional<std::int64_t> number_attr(const json::object& item, std::string_view name) {
    const auto* n = attr(item, name, "N");
    if (!n) return std::nullopt;
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (ec != std::errc{} || end != n->data() + n->size()) return std::nullopt;
    return v;
}

json::object key_of(std::string_view id) {
    std::string sk(key_sk_prefix);
    sk.append(id);
    return json::object{{schema::partition_key, items::string(keys_partition)},
                        {schema::sort_key, items::string(sk)}};
}

std::expected<core::api_key_record, std::string> decode_key(const json::object& item) {
    core::api_key_record k;
    const auto* id = attr(item, "key_id", "S");
    const auto* name = attr(item, "name", "S");
    const auto* role_text = attr(item, "role", "S");
    const auto* hash = attr(item, "key_hash", "S");
    const auto created = number_attr(item, "created_at");
    if (!id || !name || !role_text || !hash || !created) return std::unexpected("incomplete key item");
    const auto r = core::parse_role(*role_text);
    if (!r) return std::unexpected("unknown role in key item");
    k.id = std::string(*id);
    k.name = std::string(*name);
    k.key_role = *r;
    k.hash = std::string(*hash);
    k.created_at = *created;
    k.revoked_at = number_attr(item, "revoked_at");
    return k;
}

}  // namespace

dynamodb_key_store::dynamodb_key_store(std::string table, std::shared_ptr<aws::dynamodb_client> client)
    : table_(std::move(table)), client_(std::move(client)) {}

core::result<void> dynamodb_key_store::create_key(const core::api_key_record& k) {
    json::object item = key_of(k.id);
    item["key_id"] = items::string(k.id);
    item["name"] = items::string(k.name);
    item["role"] = items::string(core::to_string(k.key_role));
    item["key_hash"] = items::string(k.hash);
    item["created_at"] = items::number(std::int64_t{k.created_at});
    const auto r =
        client_->call("PutItem", json::object{{"TableName", table_},
                                              {"Item", std::move(item)},
                                              {"ConditionExpression", "attribute_not_exists(sk)"}});
    if (!r) {
        if (r.error().kind == aws::error_kind::conditional_check_failed) {
            return core::fail(core::error::make(core::errc::conflict, "a key with id " + k.id + " exists"));
        }
        return core::fail(to_core_error(table_, r.error()));
    }
    return {};
}

core::result<std::optional<core::api_key_record>> dynamodb_key_store::find_key(std::string_view id) {
    const auto r = client_->call(
        "GetItem", json::object{{"TableName", table_}, {"Key", key_of(id)}, {"ConsistentRead", true}});
    if (!r) return core::fail(to_core_error(table_, r.error()));
    const auto* item = r->is_object() ? r->get_object().if_contains("Item") : nullptr;
    if (!item || !item->is_object()) return std::optional<core::api_key_record>{};
    auto k = decode_key(item->get_object());
    if (!k)
        return core::fail(core::error::internal_error("dynamodb: key " + std::string(id) + ": " + k.error()));
    return std::optional<core::api_key_record>{std::move(*k)};
}

core::result<std::vector<core::api_key_record>> dynamodb_key_store::list_keys() {
    std::vector<core::api_key_record> out;
    json::object q{{"TableName", table_},
                   {"KeyConditionExpression", "tracking_id = :p AND begins_with(sk, :k)"},
                   {"ExpressionAttributeValues", json::object{{":p", items::string(keys_partition)},
                                                              {":k", items::string(key_sk_prefix)}}},
                   {"ConsistentRead", true}};
    for (int page = 0; page < 1000; ++page) {
        const auto r = client_->call("Query", q);
        if (!r) return core::fail(to_core_error(table_, r.error()));
        const auto& answer = r->as_object();
        for (const auto* item : items::page_items(answer)) {
            auto k = decode_key(*item);
            if (!k) return core::fail(core::error::internal_error("dynamodb: key item: " + k.error()));
            out.push_back(std::move(*k));
        }
        const auto* next = answer.if_contains("LastEvaluatedKey");
        if (!next || !next->is_object()) break;
        q["ExclusiveStartKey"] = *next;
    }
    core::order_by_creation(out);
    return out;
}

core::result<core::api_key_record> dynamodb_key_store::revoke_key(std::string_view id, core::millis now) {
    const auto r = client_->call(
        "UpdateItem",
        json::object{{"TableName", table_},
                     {"Key", key_of(id)},
                     {"UpdateExpression", "SET revoked_at = if_not_exists(revoked_at, :now)"},
                     {"ConditionExpression", "attribute_exists(sk)"},
                     {"ExpressionAttributeValues", json::object{{":now", items::number(std::int64_t{now})}}},
                     {"ReturnValues", "ALL_NEW"}});
    if (!r) {
        if (r.error().kind == aws::error_kind::conditional_check_failed) {
            return core::fail(core::error::make(core::errc::not_found, "no key with id " + std::string(id)));
        }
        return core::fail(to_core_error(table_, r.error()));
    }
    const auto* attrs = r->is_object() ? r->get_object().if_contains("Attributes") : nullptr;
    if (!attrs || !attrs->is_object())
        return core::fail(core::error::internal_error("dynamodb: UpdateItem answered no attributes"));
    auto k = decode_key(attrs->get_object());
    if (!k)
        return core::fail(core::error::internal_error("dynamodb: key " + std::string(id) + ": " + k.error()));
    return std::move(*k);
}

struct dynamodb_rate_limiter::lease {
    std::mutex mutex;            // held while this client's lease is taken: its other requests wait for it
    core::millis window = -1;    // start of the window the fields below are about
    std::uint64_t tokens = 0;    // leased for `window` and not spent
    std::uint64_t position = 0;  // the shared counter after this instance's last lease (<= limit)
    std::uint64_t admitted = 0;  // requests admitted here for this client in `window`
    std::uint64_t size = 1;      // tokens the next lease claims in `window`
    bool full = false;           // the counter refused a lease in `window`
    std::atomic<core::millis> forget_after{0};  // two windows after `window`: nothing left to keep
};

dynamodb_rate_limiter::dynamodb_rate_limiter(std::string table, std::shared_ptr<aws::dynamodb_client> client,
                                             std::unique_ptr<core::rate_limiter> per_instance,
                                             std::size_t max_clients)
    : table_(std::move(table)),
      client_(std::move(client)),
      per_instance_(std::move(per_instance)),
      max_clients_(std::max<std::size_t>(1, max_clients)) {}

dynamodb_rate_limiter::~dynamodb_rate_limiter() = default;

core::result<core::limit_decision> dynamodb_rate_limiter::acquire(std::string_view client,
                                                                  const core::rate_limit& limit,
                                                                  core::millis now) {
    if (limit.unlimited()) return core::limit_decision{};
    if (per_instance_ && !client.starts_with("key:")) return per_instance_->acquire(client, limit, now);
    return shared(client, limit, now);
}

core::result<core::limit_decision> dynamodb_rate_limiter::shared(std::string_view client,
                                                                 const core::rate_limit& limit,
                                                                 core::millis now) {
    const auto w = core::fixed_window::of(limit);
    const core::millis start = w.start_of(now);
    const std::uint64_t cap = std::max<std::uint64_t>(1, w.limit / max_lease_divisor);

    std::shared_ptr<lease> l;
    {
        const std::lock_guard lock(mutex_);
        auto it = leases_.find(std::string(client));
        if (it == leases_.end()) {
            if (leases_.size() >= max_clients_) {
                // Forget clients whose lease is over; if none is, any one (its unspent tokens are
                // then refused to everybody until the window ends: never an overshoot).
                std::erase_if(leases_, [&](const auto& e) { return e.second->forget_after.load() < now; });
                if (leases_.size() >= max_clients_) leases_.erase(leases_.begin());
            }
            it = leases_.emplace(std::string(client), std::make_shared<lease>()).first;
        }
        l = it->second;
    }
    const std::lock_guard hold(l->mutex);
    if (l->window != start) {
        // What this instance admitted in the previous window predicts this one: lease that much
        // at once (one UpdateItem per window for a steady client), within the cap.
        const std::uint64_t previous = l->window == start - w.window_ms ? l->admitted : 0;
        l->window = start;
        l->tokens = 0;
        l->position = 0;
        l->admitted = 0;
        l->full = false;
        l->size = std::clamp<std::uint64_t>(previous, 1, cap);
        l->forget_after = start + 2 * w.window_ms;
    }
    if (l->tokens == 0) {
        if (l->full) return w.refused(now);
        const std::uint64_t n = std::min(l->size, cap);
        std::string pk(rate_limit_prefix);
        pk.append(client);
        const std::int64_t ttl = items::ttl_seconds(start + 3 * w.window_ms);
        counter_writes_.fetch_add(1);
        const auto r = client_->call(
            "UpdateItem",
            json::object{{"TableName", table_},
                         {"Key", json::object{{schema::partition_key, items::string(pk)},
                                              {schema::sort_key, items::string(std::to_string(start))}}},
                         {"UpdateExpression", "ADD hits :n SET expires_at = :ttl"},
                         {"ConditionExpression", "attribute_not_exists(hits) OR hits < :limit"},
                         {"ExpressionAttributeValues",
                          json::object{{":n", items::number(static_cast<std::int64_t>(n))},
                                       {":ttl", items::number(ttl)},
                                       {":limit", items::number(std::int64_t{w.limit})}}},
                         {"ReturnValues", "UPDATED_NEW"}});
        if (!r) {
            if (r.error().kind == aws::error_kind::conditional_check_failed) {
                l->full = true;
                return w.refused(now);
            }
            return core::fail(to_core_error(table_, r.error()));
        }
        const auto* attrs = r->is_object() ? r->get_object().if_contains("Attributes") : nullptr;
        // -1 when the answer has no count (a plain value rather than an optional: GCC 12 at -Os
        // warns that the optional's value may be used uninitialized).
        const std::int64_t hits =
            attrs && attrs->is_object() ? number_attr(attrs->get_object(), "hits").value_or(-1) : -1;
        // The claimed positions are (hits - n, hits]; those at or below the limit are ours. The
        // condition held, so at least the first one is. Without an answer, take only that one.
        if (hits >= static_cast<std::int64_t>(n)) {
            const auto after = static_cast<std::uint64_t>(hits);
            l->tokens = std::min<std::uint64_t>(n, w.limit - std::min<std::uint64_t>(after - n, w.limit - 1));
            l->position = std::min<std::uint64_t>(after, w.limit);
        } else {
            l->tokens = 1;
            l->position = w.limit;
        }
        l->full = l->position >= w.limit;
    }
    --l->tokens;
    ++l->admitted;
    return w.admitted(l->position - l->tokens, now);
}

}  // namespace dinex::store

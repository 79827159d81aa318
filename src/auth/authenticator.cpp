#include "auth/authenticator.hpp"
#include "core/text.hpp"

#include <iterator>

#include "auth/api_key.hpp"

namespace dinex::auth {

authenticator::authenticator(core::key_store& keys, core::millis cache_ttl, std::size_t max_entries)
    : keys_(keys), ttl_(cache_ttl), max_entries_(max_entries) {}

core::error authenticator::refused() {
    return core::error::make(core::errc::unauthenticated, "a valid API key is required");
}

std::optional<std::string> authenticator::add_configured_keys(std::string_view spec, core::millis now) {
    for (const std::string_view item : core::split_list(spec)) {
        const auto c1 = item.find(':');
        const auto c2 = c1 == std::string_view::npos ? c1 : item.find(':', c1 + 1);
        if (c2 == std::string_view::npos)
            return "expected role:id:sha256hex, got '" + std::string(item) + "'";
        const auto r = core::parse_role(item.substr(0, c1));
        const std::string_view id = item.substr(c1 + 1, c2 - c1 - 1);
        const std::string_view hash = item.substr(c2 + 1);
        std::string probe(key_prefix);
        probe.append(id).append("_").append(key_secret_length, 'a');
        const bool hex =
            hash.size() == 64 && hash.find_first_not_of("0123456789abcdef") == std::string_view::npos;
        if (!r || !key_id_of(probe) || !hex) {
            return "expected role:id:sha256hex (reader|writer|admin, a 12-character key id, 64 lower-case "
                   "hex), got '" +
                   std::string(item) + "'";
        }
        core::api_key_record k;
        k.id = std::string(id);
        k.name = "configured";
        k.key_role = *r;
        k.hash = std::string(hash);
        k.created_at = now;
        configured_[k.id] = std::move(k);
    }
    return std::nullopt;
}

bool authenticator::verifiable_without_store(std::string_view key, core::millis now) {
    const auto id = key_id_of(key);
    if (!id) return true;
    if (configured_.contains(*id)) return true;
    const std::lock_guard lock(mutex_);
    const auto it = cache_.find(*id);
    return it != cache_.end() && now - it->second.fetched_at < ttl_;
}

std::optional<core::principal> authenticator::known_good(std::string_view key, core::millis now) {
    const auto id = key_id_of(key);
    if (!id) return std::nullopt;
    std::optional<core::api_key_record> record;
    if (const auto it = configured_.find(*id); it != configured_.end()) {
        record = it->second;
    } else {
        const std::lock_guard lock(mutex_);
        if (const auto c = cache_.find(*id); c != cache_.end() && now - c->second.fetched_at < ttl_) {
            record = c->second.record;
        }
    }
    if (!record || record->revoked_at || !key_matches(key, record->hash)) return std::nullopt;
    return core::principal{record->id, record->key_role};
}

core::result<core::principal> authenticator::verify(std::string_view key, core::millis now) {
    const auto id = key_id_of(key);
    if (!id) return core::fail(refused());

    std::optional<core::api_key_record> record;
    bool hit = false;
    if (const auto it = configured_.find(*id); it != configured_.end()) {
        record = it->second;
        hit = true;
    }
    if (!hit) {
        const std::lock_guard lock(mutex_);
        if (const auto it = cache_.find(*id); it != cache_.end() && now - it->second.fetched_at < ttl_) {
            record = it->second.record;
            hit = true;
        }
    }
    if (!hit) {
        auto found = keys_.find_key(*id);
        if (!found) {
            auto e = std::move(found.error());
            if (e.code != core::errc::unavailable) e = core::error::unavailable_error(e.internal_message);
            return core::fail(std::move(e));
        }
        record = std::move(*found);
        const std::lock_guard lock(mutex_);
        if (cache_.size() >= max_entries_) {
            // Drop stale entries; when all are fresh, start over (bounded memory beats a hit rate).
            for (auto it = cache_.begin(); it != cache_.end();) {
                it = now - it->second.fetched_at >= ttl_ ? cache_.erase(it) : std::next(it);
            }
            if (cache_.size() >= max_entries_) cache_.clear();
        }
        cache_[*id] = entry{record, now};
    }
    // Hash and compare even for an unknown or revoked key, so timing does not tell them apart.
    static const std::string no_hash(64, '0');
    const bool matches =
        key_matches(key, record ? std::string_view(record->hash) : std::string_view(no_hash));
    if (!record || record->revoked_at || !matches) return core::fail(refused());
    return core::principal{record->id, record->key_role};
}

}  // namespace dinex::auth

#include "api/lookup_cache.hpp"

#include <functional>

namespace dinex::api {

lookup_cache::lookup_cache(std::size_t capacity)
    : capacity_per_shard_(capacity == 0 ? 0 : (capacity + shard_count - 1) / shard_count) {}

std::size_t lookup_cache::shard_of(std::string_view id) const noexcept {
    return std::hash<std::string_view>{}(id) % shard_count;
}

std::optional<std::string> lookup_cache::get(std::string_view tracking_id, core::millis now) {
    if (!enabled()) return std::nullopt;
    shard& s = shards_[shard_of(tracking_id)];
    const std::lock_guard lock(s.mutex);
    const auto it = s.entries.find(std::string(tracking_id));
    if (it == s.entries.end()) return std::nullopt;
    if (it->second.expires_at < now) {
        s.entries.erase(it);
        return std::nullopt;
    }
    return it->second.body;
}

lookup_cache::ticket lookup_cache::begin(std::string_view tracking_id) {
    const std::size_t i = shard_of(tracking_id);
    if (!enabled()) return {i, 0};
    shard& s = shards_[i];
    const std::lock_guard lock(s.mutex);
    return {i, s.generation};
}

void lookup_cache::put(const ticket& t, std::string_view tracking_id, std::string body,
                       core::millis expires_at) {
    if (!enabled()) return;
    shard& s = shards_[t.shard];
    const std::lock_guard lock(s.mutex);
    if (s.generation != t.generation) return;  // a write landed while we read: our copy may be stale
    if (s.entries.size() >= capacity_per_shard_ && !s.entries.contains(std::string(tracking_id))) {
        s.entries.erase(s.entries.begin());  // bounded memory; any victim will do for a cache this simple
    }
    s.entries.insert_or_assign(std::string(tracking_id), entry{std::move(body), expires_at});
}

void lookup_cache::invalidate(std::string_view tracking_id) {
    if (!enabled()) return;
    shard& s = shards_[shard_of(tracking_id)];
    const std::lock_guard lock(s.mutex);
    ++s.generation;
    s.entries.erase(std::string(tracking_id));
}

}  // namespace dinex::api

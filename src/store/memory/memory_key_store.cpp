#include "store/memory/memory_key_store.hpp"

#include <algorithm>

namespace dinex::store {

core::result<void> memory_key_store::create_key(const core::api_key_record& record) {
    const std::lock_guard lock(mutex_);
    if (!keys_.emplace(record.id, record).second) {
        return core::fail(core::error::make(core::errc::conflict, "a key with id " + record.id + " exists"));
    }
    return {};
}

core::result<std::optional<core::api_key_record>> memory_key_store::find_key(std::string_view id) {
    const std::lock_guard lock(mutex_);
    const auto it = keys_.find(id);
    if (it == keys_.end()) return std::optional<core::api_key_record>{};
    return std::optional<core::api_key_record>{it->second};
}

core::result<std::vector<core::api_key_record>> memory_key_store::list_keys() {
    const std::lock_guard lock(mutex_);
    std::vector<core::api_key_record> out;
    for (const auto& [id, r] : keys_) out.push_back(r);
    core::order_by_creation(out);
    return out;
}

core::result<core::api_key_record> memory_key_store::revoke_key(std::string_view id, core::millis now) {
    const std::lock_guard lock(mutex_);
    const auto it = keys_.find(id);
    if (it == keys_.end()) {
        return core::fail(core::error::make(core::errc::not_found, "no key with id " + std::string(id)));
    }
    if (!it->second.revoked_at) it->second.revoked_at = now;
    return it->second;
}

}  // namespace dinex::store

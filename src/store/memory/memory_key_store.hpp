#pragma once
// API keys in process memory: the reference back-end of the key store contract suite.
#include <map>
#include <mutex>
#include <string>

#include "core/access.hpp"

namespace dinex::store {

class memory_key_store final : public core::key_store {
public:
    core::result<void> create_key(const core::api_key_record& record) override;
    core::result<std::optional<core::api_key_record>> find_key(std::string_view id) override;
    core::result<std::vector<core::api_key_record>> list_keys() override;
    core::result<core::api_key_record> revoke_key(std::string_view id, core::millis now) override;

private:
    std::mutex mutex_;
    std::map<std::string, core::api_key_record, std::less<>> keys_;
};

}  // namespace dinex::store

#pragma once
// API keys and shared rate-limit counters in the service's DynamoDB table (docs/DYNAMODB.md,
// docs/SECURITY.md). Their partition keys contain '#', which a tracking id never does, so they
// can never collide with a package; they carry no `gsi_status`, so the status index never sees
// them, and their sort keys are not `STATE`, so the notification stream ignores them.
#include <memory>
#include <string>

#include "core/access.hpp"

namespace dinex::aws {
class dynamodb_client;
}

namespace dinex::store {

// Keys: partition `KEYS#`, sort key `KEY#<id>` — one GetItem per verification, one Query lists
// them all (no table Scan).
class dynamodb_key_store final : public core::key_store {
public:
    dynamodb_key_store(std::string table, std::shared_ptr<aws::dynamodb_client> client);

    core::result<void> create_key(const core::api_key_record& record) override;
    core::result<std::optional<core::api_key_record>> find_key(std::string_view id) override;
    core::result<std::vector<core::api_key_record>> list_keys() override;
    core::result<core::api_key_record> revoke_key(std::string_view id, core::millis now) override;

private:
    std::string table_;
    std::shared_ptr<aws::dynamodb_client> client_;
};

// A fixed-window counter per client and window, shared by every instance (Lambda or servers):
// partition `RL#<client>`, sort key the window start (ms); one conditional UpdateItem per request:
// `ADD hits :1` if `hits < :limit`, TTL two windows after the window ends.
class dynamodb_rate_limiter final : public core::rate_limiter {
public:
    dynamodb_rate_limiter(std::string table, std::shared_ptr<aws::dynamodb_client> client);

    std::string_view backend_name() const noexcept override { return "dynamodb"; }
    core::result<core::limit_decision> acquire(std::string_view client, const core::rate_limit& limit,
                                               core::millis now) override;

private:
    std::string table_;
    std::shared_ptr<aws::dynamodb_client> client_;
};

inline constexpr std::string_view keys_partition = "KEYS#";
inline constexpr std::string_view key_sk_prefix = "KEY#";
inline constexpr std::string_view rate_limit_prefix = "RL#";

}  // namespace dinex::store

#pragma once
// API keys and shared rate-limit counters in the service's DynamoDB table (docs/DYNAMODB.md,
// docs/SECURITY.md). Their partition keys contain '#', which a tracking id never does, so they
// can never collide with a package; they carry no `gsi_status`, so the status index never sees
// them, and their sort keys are not `STATE`, so the notification stream ignores them.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

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
// partition `RL#<client>`, sort key the window start (ms), TTL two windows after the window ends.
// An instance does not write the counter per request: it *leases* tokens, one conditional
// UpdateItem (`ADD hits :n` if `hits < :limit`) claiming n of the window's `limit`, and spends
// them locally. The tokens granted are the claimed positions at or below the limit (the counter's
// new value tells which), so the requests admitted by all instances in a window never exceed the
// limit; what one instance leased and did not spend is refused to the others (docs/SECURITY.md
// states both bounds). The lease size adapts per client: 1 in a client's first window on this
// instance, then the requests this instance admitted for it in the previous window, doubled
// while a window's leases run out, never more than max(1, limit / max_lease_divisor).
// Clients that are not API keys (`ip:`, `verify:`, `metrics:`: anonymous callers) are counted by
// `per_instance` instead, when given: each instance holds them to the limit on its own.
class dynamodb_rate_limiter final : public core::rate_limiter {
public:
    static constexpr std::uint32_t max_lease_divisor = 10;

    dynamodb_rate_limiter(std::string table, std::shared_ptr<aws::dynamodb_client> client,
                          std::unique_ptr<core::rate_limiter> per_instance = nullptr,
                          std::size_t max_clients = 100'000);
    ~dynamodb_rate_limiter() override;

    std::string_view backend_name() const noexcept override { return "dynamodb"; }
    core::result<core::limit_decision> acquire(std::string_view client, const core::rate_limit& limit,
                                               core::millis now) override;

    // UpdateItems sent (leases taken or refused), for tests and the cost measurement.
    std::uint64_t counter_writes() const noexcept { return counter_writes_.load(); }

private:
    struct lease;
    core::result<core::limit_decision> shared(std::string_view client, const core::rate_limit& limit,
                                              core::millis now);

    std::string table_;
    std::shared_ptr<aws::dynamodb_client> client_;
    std::unique_ptr<core::rate_limiter> per_instance_;
    std::size_t max_clients_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<lease>> leases_;
    std::atomic<std::uint64_t> counter_writes_{0};
};

inline constexpr std::string_view keys_partition = "KEYS#";
inline constexpr std::string_view key_sk_prefix = "KEY#";
inline constexpr std::string_view rate_limit_prefix = "RL#";

}  // namespace dinex::store

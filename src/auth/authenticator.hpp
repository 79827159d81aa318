#pragma once
// Verifies presented API keys against a key_store, keeping what it read for a short time so a
// busy client costs one store read per `cache_ttl`, not one per request. A key revoked elsewhere
// (the CLI, another instance) therefore stops working within `cache_ttl` (10 s by default).
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/access.hpp"

namespace dinex::auth {

class authenticator {
public:
    explicit authenticator(core::key_store& keys, core::millis cache_ttl = 10'000,
                           std::size_t max_entries = 10'000);

    // The principal of `key`, or `unauthenticated` with ONE message whether the key is malformed,
    // unknown, revoked or wrong (the client learns nothing about which), or `unavailable` when
    // the key store cannot answer.
    core::result<core::principal> verify(std::string_view key, core::millis now);

    // True when verifying `key` would not read the store (its id is in the cache and fresh, or
    // the key is malformed): callers charge a store read to the client's anonymous quota first.
    bool verifiable_without_store(std::string_view key, core::millis now);

    // The principal of `key` when it verifies against a fresh cached or configured record, without
    // reading the store; nullopt when that cannot be told here (not cached, or wrong).
    std::optional<core::principal> known_good(std::string_view key, core::millis now);

    core::millis cache_ttl() const noexcept { return ttl_; }

    // Keys given by configuration (DINEX_API_KEY_HASHES: "role:id:sha256hex,…"), checked before
    // the store: for the memory store, and for keys provisioned with a deployment. Only hashes.
    // Returns an error message when `spec` is malformed. Call before serving.
    std::optional<std::string> add_configured_keys(std::string_view spec, core::millis now);

    static core::error refused();

private:
    struct entry {
        std::optional<core::api_key_record> record;  // nullopt: not in the store (negative entry)
        core::millis fetched_at = 0;
    };

    core::key_store& keys_;
    core::millis ttl_;
    std::size_t max_entries_;
    std::mutex mutex_;
    std::unordered_map<std::string, entry> cache_;
    std::unordered_map<std::string, core::api_key_record> configured_;
};

}  // namespace dinex::auth

#pragma once
// Who may do what (docs/SECURITY.md): API key records and their store, roles and
// the rules of the routes, and the rate-limiter port. Pure: the key format and hashing (OpenSSL)
// live in src/auth, the back-ends in src/store and src/auth.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/model.hpp"

namespace dinex::core {

enum class role { reader, writer, admin };

std::string_view to_string(role r) noexcept;
std::optional<role> parse_role(std::string_view text) noexcept;

// What a request wants to do on the API.
enum class action {
    lookup,           // GET /tracking
    record,           // POST /tracking
    read_metrics,     // GET /metrics, when it is not public
    manage_webhooks,  // /subscriptions…
    list_packages,    // GET /packages: any key (reader or better), never anonymous
};

// Who is asking: a verified key, or nobody (anonymous).
struct principal {
    std::string key_id;
    role key_role = role::reader;
};

// The rule table. `public_lookup`: anonymous lookups are allowed (with the public view).
// Returns nullopt when allowed, otherwise `unauthenticated` (no key where one is needed) or
// `permission_denied` (a key whose role is not enough).
std::optional<error> authorize(const std::optional<principal>& who, action what, bool public_lookup);

// An API key as stored: never the key itself, only the SHA-256 of the whole key (hex).
struct api_key_record {
    std::string id;  // public part of the key, 12 base32 characters
    std::string name;
    role key_role = role::reader;
    std::string hash;  // lower-case hex SHA-256 of the whole key string
    millis created_at = 0;
    std::optional<millis> revoked_at;
    friend bool operator==(const api_key_record&, const api_key_record&) = default;
};

// The order of a key listing: oldest first, then by id.
void order_by_creation(std::vector<api_key_record>& keys);

class key_store {
public:
    virtual ~key_store() = default;
    // `conflict` when a key with this id exists.
    virtual result<void> create_key(const api_key_record& record) = 0;
    virtual result<std::optional<api_key_record>> find_key(std::string_view id) = 0;
    // Every key (revoked ones too), oldest first.
    virtual result<std::vector<api_key_record>> list_keys() = 0;
    // Marks the key revoked at `now`; `not_found` when unknown. Revoking twice keeps the first time.
    virtual result<api_key_record> revoke_key(std::string_view id, millis now) = 0;
};

// A rate and a burst: `per_second` requests per second on average, `burst` at once.
struct rate_limit {
    double per_second = 0;
    std::uint32_t burst = 0;
    bool unlimited() const noexcept { return per_second <= 0 || burst == 0; }
    friend bool operator==(const rate_limit&, const rate_limit&) = default;
};

struct limit_decision {
    bool allowed = true;
    std::uint32_t limit = 0;      // RateLimit-Limit: requests allowed in a burst / window
    std::uint32_t remaining = 0;  // RateLimit-Remaining
    millis reset_after = 0;       // RateLimit-Reset: until the quota is whole again
    millis retry_after = 0;       // when refused: until the next request would be allowed
};

// Counts requests per client. `client` is an opaque key ("key:<id>", "ip:<address>").
class rate_limiter {
public:
    virtual ~rate_limiter() = default;
    virtual std::string_view backend_name() const noexcept = 0;
    virtual result<limit_decision> acquire(std::string_view client, const rate_limit& limit, millis now) = 0;
};

// The fixed-window arithmetic of the shared (DynamoDB) limiter, pure so it is unit-tested: a
// window of `window_ms` (at least 1 s, about burst / rate) admits `limit` (= burst) requests.
struct fixed_window {
    millis window_ms = 1000;
    std::uint32_t limit = 1;
    static fixed_window of(const rate_limit& l) noexcept;
    millis start_of(millis now) const noexcept { return now - (now % window_ms); }
    millis reset_after(millis now) const noexcept { return start_of(now) + window_ms - now; }
    // The decision after the counter of the current window became `hits` (allowed), or the
    // refusal when the counter was already at the limit.
    limit_decision admitted(std::uint64_t hits, millis now) const noexcept;
    limit_decision refused(millis now) const noexcept;
};

}  // namespace dinex::core

#pragma once
// Webhooks, the local channel of notifications (docs/NOTIFICATIONS.md): how a delivery is signed,
// how a signing secret is made, and which receiver URLs are acceptable (server-side request
// forgery: no loopback, private or link-local address unless allowed).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace dinex::notify {

// Header names of a delivery.
inline constexpr std::string_view delivery_header = "X-Dinex-Delivery";
inline constexpr std::string_view timestamp_header = "X-Dinex-Timestamp";
inline constexpr std::string_view signature_header = "X-Dinex-Signature";
inline constexpr std::string_view event_header = "X-Dinex-Event";
inline constexpr std::string_view attempt_header = "X-Dinex-Attempt";

// "v1=" + lower-case hex HMAC-SHA256(secret, timestamp + "." + body). The timestamp (Unix seconds,
// also sent in X-Dinex-Timestamp) is signed so a receiver can refuse replays of old deliveries.
std::string sign_delivery(std::string_view secret, std::string_view timestamp, std::string_view body);

// "whsec_" + 64 hex characters (256 random bits from OpenSSL's generator).
std::string new_signing_secret();

// Why `address` (an IPv4 or IPv6 literal) must not receive webhooks: "loopback", "private",
// "link-local", "unspecified", "multicast", "shared address space", "reserved", "unique local",
// "documentation"; nullopt for a public address. IPv4-mapped IPv6 addresses are judged as IPv4.
// Text that is no address is refused as "not an IP address".
std::optional<std::string> refused_address(std::string_view address);

inline constexpr std::size_t max_webhook_url_length = 2048;

// The rules for a subscription's URL: absolute http(s), a host, no user name or password (they
// would be stored and logged), no fragment, at most 2,048 characters; unless `allow_private`, no
// loopback, private or link-local IP literal and no "localhost" name. Host names are checked
// again at every delivery against the addresses they resolve to (the http client's
// refuse_address). Errors name the field `url` and the rule broken.
core::result<void> check_webhook_url(std::string_view url, bool allow_private);

}  // namespace dinex::notify

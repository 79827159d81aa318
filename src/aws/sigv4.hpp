#pragma once
// AWS Signature Version 4, Authorization-header form. Pure: the signing time is an argument, so
// the same inputs always give the same signature and the official test vectors can pin it down.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dinex::aws {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // empty for long-term keys
};

struct signing_request {
    std::string method;
    // Exactly as it goes on the request line (normally already percent-encoded), so that the
    // signature matches what the server recomputes from the bytes it receives. Dot segments and
    // repeated slashes are allowed; see signing_options::normalize_path.
    std::string path;
    // Without the leading '?'. Names and values may be percent-encoded or not: they are decoded
    // and re-encoded. '+' is a literal plus, not a space, as AWS reads it.
    std::string query;
    // As sent: any case, names may repeat (their values are joined in this order). Must contain
    // Host. Authorization, X-Amz-Date and X-Amz-Security-Token given here are ignored because
    // sign() computes them. An X-Amz-Content-Sha256 given here is kept and its value is used as
    // the payload hash, which is how S3 callers send UNSIGNED-PAYLOAD.
    header_list headers;
    std::string_view payload;
};

struct signing_options {
    // RFC 3986 dot-segment removal plus collapsing of empty segments. S3 wants false: its object
    // keys may legitimately contain ".", ".." and "//".
    bool normalize_path = true;
    // Every service except S3 URI-encodes the (already encoded) path once more. With false, the
    // path is encoded once: existing %XX escapes are kept and only the other reserved bytes are
    // escaped, so S3 keys can be passed raw or encoded.
    bool double_encode_path = true;
    // S3 requires X-Amz-Content-Sha256; other services accept it but do not need it.
    bool add_content_sha256 = false;
    // A few services (historically some STS/IoT endpoints) want the token added after signing.
    // The header is returned either way; this only decides whether it is signed.
    bool sign_session_token = true;
};

struct signing_result {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;      // lower-case hex
    std::string authorization;  // the full Authorization header value
    // What the caller appends to the request, in this order: X-Amz-Date, X-Amz-Security-Token
    // (when credentials carry a token), X-Amz-Content-Sha256 (when added), Authorization.
    header_list headers_to_add;
};

// Throws std::invalid_argument when the request has no Host header, or std::out_of_range when the
// time is outside years 0000-9999 (X-Amz-Date has four year digits).
[[nodiscard]] signing_result sign(const signing_request& request, const credentials& creds,
                                  std::string_view region, std::string_view service,
                                  std::chrono::sys_seconds time, const signing_options& options = {});

// Lower-case hex of SHA-256, the form SigV4 uses for payload and canonical-request hashes.
[[nodiscard]] std::string sha256_hex(std::string_view data);

// Percent-encodes every byte outside A-Za-z0-9-._~ as %XX (upper-case hex), '/' included only
// when encode_slash is true. This is the AWS "UriEncode", not the form encoding ('+' for space).
[[nodiscard]] std::string uri_encode(std::string_view input, bool encode_slash);

}  // namespace dinex::aws

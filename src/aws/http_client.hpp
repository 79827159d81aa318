#pragma once
// A small synchronous HTTP/1.1 client for AWS APIs: http:// and https:// (OpenSSL, peer and host
// name verification against the system CA store, SNI), keep-alive connections pooled per endpoint
// and shared by threads, deadlines on connect and on each request, limits on header and body size.
// No Beast or OpenSSL type leaks out of this header.
#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/sigv4.hpp"  // header_list
#include "aws/trust_store.hpp"

namespace dinex::aws {

struct http_request {
    std::string method = "POST";
    std::string url;  // scheme://host[:port] (a path here is ignored: use `path`)
    std::string path = "/";
    std::string query;    // without '?', already encoded
    header_list headers;  // sent as given; Host is added from the URL when missing
    std::string body;
};

struct http_response {
    int status = 0;
    header_list headers;
    std::string body;
};

struct http_error {
    std::string message;
};

struct tls_options {
    bool verify_peer = true;  // off only for tests against self-signed servers
    std::string ca_file;      // extra CA bundle (PEM), trusted beside the trust store
};

// The TLS client context of a process, shared by every AWS client so that the CA bundle is parsed
// once, not once per client. The trust store is chosen when it is made (a missing one is known at
// start-up) and parsed at the first TLS connection, so a cold start pays for it only when TLS is
// really used. Verification is never off unless tls_options says so.
class tls_context {
public:
    // The trust store of this process (SSL_CERT_FILE/SSL_CERT_DIR, else the known locations).
    static std::shared_ptr<tls_context> for_this_system(tls_options options = {});
    tls_context(std::expected<trust_store, std::string> trust, tls_options options);
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    // Where the CA certificates come from, or why none was found.
    const std::expected<trust_store, std::string>& trust() const noexcept;
    const tls_options& options() const noexcept;
    // How many times CA certificates were loaded into the context: 0 before the first TLS
    // connection, 1 after (for tests and the cold-start benchmark).
    int loads() const noexcept;

    struct impl;
    impl& internals() noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

// The message that says why `endpoint` cannot be used with `tls`, or nullopt when it can (an
// http:// endpoint, or a trust store was found).
std::optional<std::string> missing_trust_for(const tls_context& tls, std::string_view endpoint);

struct http_client_options {
    std::chrono::milliseconds connect_timeout{3000};   // resolve + connect + TLS handshake
    std::chrono::milliseconds request_timeout{10000};  // write the request + read the answer
    std::size_t max_header_bytes = std::size_t{64} * 1024;
    std::size_t max_body_bytes = std::size_t{16} * 1024 * 1024;
    std::size_t max_idle_per_endpoint = 8;  // kept-alive connections waiting for reuse
    // The process's shared context; when null the client makes its own from `tls_settings`.
    std::shared_ptr<tls_context> tls;
    tls_options tls_settings;
    // An answer whose body is over max_body_bytes is returned with its status and headers and no
    // body (its connection is closed) instead of failing: for callers that need only the status.
    bool status_past_body_limit = false;
    // Asked for every address a host name resolves to; a reason refuses it. The connection goes
    // only to an address that was accepted, so a name cannot be re-resolved to another one in
    // between (webhooks use it against server-side request forgery).
    std::function<std::optional<std::string>(std::string_view address)> refuse_address;
};

class http_client {
public:
    explicit http_client(http_client_options options = {});
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // Thread-safe. A pooled connection that the server closed meanwhile is replaced once,
    // transparently; any other failure is returned as an http_error.
    std::expected<http_response, http_error> send(const http_request& request);

    // Connections currently idle in the pool (for tests).
    std::size_t idle_connections() const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

// What sends one request: an http_client's send in production, a fake in tests
// (tests/support/fake_aws_http.hpp), so that any call of an AWS client can be made to fail.
using http_send = std::function<std::expected<http_response, http_error>(const http_request&)>;

// Splits "https://host:port/..." into its parts; nullopt-like error for anything else.
struct parsed_url {
    bool tls = false;
    std::string host;
    std::string port;       // "443" / "80" when not given
    std::string authority;  // the Host header value: host, plus ":port" when not the default
};
std::expected<parsed_url, http_error> parse_url(const std::string& url);

}  // namespace dinex::aws

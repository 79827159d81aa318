#include "aws/http_client.hpp"

#include <openssl/err.h>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace dinex::aws {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// One connection with its own io_context: operations are asynchronous (so that every one has a
// deadline) and the calling thread runs them to completion, which makes the call synchronous.
struct connection {
    net::io_context ioc;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    bool reused = false;

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

    // Runs one started operation to its end and returns its error code.
    template <class Start>
    error_code run(Start&& start) {
        error_code result = net::error::would_block;
        start([&result](error_code ec, auto&&...) { result = ec; });
        ioc.restart();
        ioc.run();
        return result;
    }

    void close() {
        error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().socket().close(ignored);
    }
};

std::string describe(std::string_view what, const error_code& ec) {
    return std::string(what) + ": " + ec.message();
}

// The reason OpenSSL left on this thread's error queue (and clears it).
std::string openssl_reason() {
    std::string out;
    while (const unsigned long code = ERR_get_error()) {
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        if (!out.empty()) out += "; ";
        out += text;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace

struct tls_context::impl {
    std::expected<trust_store, std::string> trust;
    tls_options options;
    std::once_flag loaded;
    std::optional<ssl::context> native;
    std::string load_error;  // why `native` is unusable, when it is
    std::atomic<int> loads{0};

    // The context, made and loaded on the first call; the error says why there is none.
    ssl::context* get(std::string& error) {
        std::call_once(loaded, [this] { load(); });
        if (!load_error.empty()) {
            error = load_error;
            return nullptr;
        }
        return &*native;
    }

    void load() {
        native.emplace(ssl::context::tls_client);
        native->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        native->set_verify_mode(options.verify_peer ? ssl::verify_peer : ssl::verify_none);
        if (!options.verify_peer) return;
        SSL_CTX* ctx = native->native_handle();
        bool any = false;
        if (trust) {
            const char* file = trust->file.empty() ? nullptr : trust->file.c_str();
            const char* dir = trust->directory.empty() ? nullptr : trust->directory.c_str();
            if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1) {
                load_error = "cannot load the CA trust store " + trust->describe() + ": " + openssl_reason();
                return;
            }
            any = true;
        }
        if (!options.ca_file.empty()) {
            if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
                load_error = "cannot load the CA file " + options.ca_file + ": " + openssl_reason();
                return;
            }
            any = true;
        }
        if (!any) {
            load_error = trust.error();
            return;
        }
        loads.fetch_add(1, std::memory_order_relaxed);
    }
};

std::shared_ptr<tls_context> tls_context::for_this_system(tls_options options) {
    return std::make_shared<tls_context>(choose_trust_store(system_trust_store_probe()), std::move(options));
}

tls_context::tls_context(std::expected<trust_store, std::string> trust, tls_options options)
    : impl_(std::make_unique<impl>()) {
    impl_->trust = std::move(trust);
    impl_->options = std::move(options);
}
tls_context::~tls_context() = default;

const std::expected<trust_store, std::string>& tls_context::trust() const noexcept { return impl_->trust; }
const tls_options& tls_context::options() const noexcept { return impl_->options; }
int tls_context::loads() const noexcept { return impl_->loads.load(std::memory_order_relaxed); }

std::optional<std::string> missing_trust_for(const tls_context& tls, std::string_view endpoint) {
    if (!endpoint.starts_with("https://") || tls.trust() || !tls.options().verify_peer) return std::nullopt;
    return std::string(endpoint) + " needs TLS, but " + tls.trust().error();
}

std::expected<parsed_url, http_error> parse_url(const std::string& url) {
    const auto u = boost::urls::parse_uri(url);
    if (!u) return std::unexpected(http_error{"not a URL: " + url});
    parsed_url p;
    const auto scheme = u->scheme();
    if (scheme == "https") {
        p.tls = true;
    } else if (scheme != "http") {
        return std::unexpected(http_error{"unsupported scheme in " + url});
    }
    p.host = u->encoded_host().decode();
    if (p.host.empty()) return std::unexpected(http_error{"no host in " + url});
    const std::string default_port = p.tls ? "443" : "80";
    p.port = u->has_port() ? std::string(u->port()) : default_port;
    // IPv6 literals: the resolver takes the bare address, the Host header keeps one pair of
    // brackets (encoded_host() already has them).
    if (u->host_type() == boost::urls::host_type::ipv6) p.host = u->host_address();
    const std::string host_for_header =
        u->host_type() == boost::urls::host_type::ipv6 ? "[" + p.host + "]" : p.host;
    p.authority = p.port == default_port ? host_for_header : host_for_header + ":" + p.port;
    return p;
}

struct http_client::impl {
    http_client_options options;
    std::shared_ptr<tls_context> tls;
    mutable std::mutex mutex;
    std::map<std::string, std::vector<std::unique_ptr<connection>>> idle;

    explicit impl(http_client_options o)
        : options(std::move(o)),
          tls(options.tls ? options.tls : tls_context::for_this_system(options.tls_settings)) {}

    static std::string key_of(const parsed_url& u) {
        return (u.tls ? "https://" : "http://") + u.host + ":" + u.port;
    }

    std::unique_ptr<connection> take(const std::string& key) {
        const std::lock_guard lock(mutex);
        auto it = idle.find(key);
        if (it == idle.end() || it->second.empty()) return nullptr;
        auto c = std::move(it->second.back());
        it->second.pop_back();
        return c;
    }

    void give_back(const std::string& key, std::unique_ptr<connection> c) {
        const std::lock_guard lock(mutex);
        auto& list = idle[key];
        if (list.size() < options.max_idle_per_endpoint) {
            c->reused = true;
            list.push_back(std::move(c));
        }
    }

    std::expected<std::unique_ptr<connection>, http_error> open(const parsed_url& u) {
        auto c = std::make_unique<connection>();
        tcp::resolver resolver(c->ioc);
        tcp::resolver::results_type endpoints;
        error_code ec = net::error::would_block;
        resolver.async_resolve(u.host, u.port, [&](error_code e, tcp::resolver::results_type r) {
            ec = e;
            endpoints = std::move(r);
        });
        c->ioc.run_for(options.connect_timeout);
        if (ec == net::error::would_block) {
            resolver.cancel();
            c->ioc.restart();
            c->ioc.run();
            return std::unexpected(http_error{"resolving " + u.host + ": timed out"});
        }
        if (ec) return std::unexpected(http_error{describe("resolving " + u.host, ec)});
        std::vector<tcp::endpoint> allowed;
        std::string refusal;
        for (const auto& entry : endpoints) {
            const std::string address = entry.endpoint().address().to_string();
            auto reason = options.refuse_address ? options.refuse_address(address) : std::nullopt;
            if (!reason) {
                allowed.push_back(entry.endpoint());
            } else if (refusal.empty()) {
                refusal = "refused to connect to " + u.host + " (" + address + "): " + *reason;
            }
        }
        if (allowed.empty())
            return std::unexpected(http_error{refusal.empty() ? "no address for " + u.host : refusal});

        if (u.tls) {
            std::string no_context;
            ssl::context* context = tls->internals().get(no_context);
            if (context == nullptr)
                return std::unexpected(http_error{"TLS to " + u.authority + ": " + no_context});
            c->secure.emplace(c->ioc, *context);
            // SNI, and the certificate must name the host we asked for. SNI carries host names
            // only (RFC 6066 §3: no IP literals); an address is checked against the certificate's
            // IP subjectAltName by host_name_verification.
            // SSL_set_tlsext_host_name, spelled out: the macro's C cast trips -Wold-style-cast.
            error_code not_an_address;
            (void)net::ip::make_address(u.host, not_an_address);
            if (not_an_address && !SSL_ctrl(c->secure->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                                            TLSEXT_NAMETYPE_host_name, const_cast<char*>(u.host.c_str()))) {
                return std::unexpected(http_error{"cannot set TLS server name " + u.host});
            }
            if (tls->options().verify_peer)
                c->secure->set_verify_callback(ssl::host_name_verification(u.host));
        } else {
            c->plain.emplace(c->ioc);
        }
        auto& tcp_layer = c->lowest();
        tcp_layer.expires_after(options.connect_timeout);
        ec = c->run([&](auto handler) { tcp_layer.async_connect(allowed, std::move(handler)); });
        if (ec) return std::unexpected(http_error{describe("connecting to " + u.authority, ec)});
        if (u.tls) {
            tcp_layer.expires_after(options.connect_timeout);
            ec = c->run([&](auto handler) {
                c->secure->async_handshake(ssl::stream_base::client, std::move(handler));
            });
            if (ec) {
                std::string why = describe("TLS handshake with " + u.authority, ec);
                // "certificate verify failed" alone does not say which check failed.
                if (const long verdict = SSL_get_verify_result(c->secure->native_handle());
                    verdict != X509_V_OK) {
                    why += std::string(" (") + X509_verify_cert_error_string(verdict) + ")";
                }
                return std::unexpected(http_error{why});
            }
        }
        return c;
    }

    struct exchange_failure {
        http_error error;
        bool nothing_received;  // the connection died before any byte of an answer
    };

    std::expected<http_response, exchange_failure> exchange(connection& c,
                                                            http::request<http::string_body>& req) {
        c.lowest().expires_after(options.request_timeout);
        error_code ec = c.run([&](auto handler) {
            if (c.secure)
                http::async_write(*c.secure, req, std::move(handler));
            else
                http::async_write(*c.plain, req, std::move(handler));
        });
        if (ec) return std::unexpected(exchange_failure{{describe("sending the request", ec)}, true});

        http::response_parser<http::string_body> parser;
        parser.header_limit(
            static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
        parser.body_limit(options.max_body_bytes);
        c.lowest().expires_after(options.request_timeout);
        ec = c.run([&](auto handler) {
            if (c.secure)
                http::async_read(*c.secure, c.buffer, parser, std::move(handler));
            else
                http::async_read(*c.plain, c.buffer, parser, std::move(handler));
        });
        if (ec == http::error::body_limit && options.status_past_body_limit && parser.is_header_done()) {
            // The caller wants the status only: answer it, without the body, and drop the
            // connection (the rest of the body is still on the wire).
            http_response out;
            out.status = static_cast<int>(parser.get().result_int());
            for (const auto& field : parser.get()) {
                out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            }
            c.reused = false;
            c.close();
            return out;
        }
        if (ec) {
            // Over TLS, a peer that closed without close_notify (servers and load balancers
            // dropping an idle connection do) reads as stream_truncated, not end of stream.
            const bool nothing =
                !parser.got_some() && (ec == http::error::end_of_stream || ec == net::error::eof ||
                                       ec == net::error::connection_reset || ec == net::error::broken_pipe ||
                                       ec == ssl::error::stream_truncated);
            return std::unexpected(exchange_failure{{describe("reading the answer", ec)}, nothing});
        }
        c.lowest().expires_never();
        auto msg = parser.release();
        http_response out;
        out.status = static_cast<int>(msg.result_int());
        for (const auto& field : msg) {
            out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        out.body = std::move(msg.body());
        if (!msg.keep_alive()) c.reused = false, c.close();
        return out;
    }
};

http_client::http_client(http_client_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
http_client::~http_client() = default;

std::size_t http_client::idle_connections() const {
    const std::lock_guard lock(impl_->mutex);
    std::size_t n = 0;
    for (const auto& [key, list] : impl_->idle) n += list.size();
    return n;
}

std::expected<http_response, http_error> http_client::send(const http_request& request) {
    const auto url = parse_url(request.url);
    if (!url) return std::unexpected(url.error());
    const std::string key = impl::key_of(*url);

    http::request<http::string_body> req;
    const auto verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) return std::unexpected(http_error{"unknown method " + request.method});
    req.method(verb);
    req.target(request.query.empty() ? request.path : request.path + "?" + request.query);
    req.version(11);
    bool has_host = false;
    for (const auto& [name, value] : request.headers) {
        if (beast::iequals(name, "host")) has_host = true;
        req.insert(name, value);
    }
    if (!has_host) req.set(http::field::host, url->authority);
    req.keep_alive(true);
    req.body() = request.body;
    req.prepare_payload();

    // A pooled connection may have been closed by the server while idle: when it fails before any
    // byte of an answer arrived, the request is sent once more on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<connection> c = attempt == 0 ? impl_->take(key) : nullptr;
        if (!c) {
            auto opened = impl_->open(*url);
            if (!opened) return std::unexpected(opened.error());
            c = std::move(*opened);
        }
        const bool was_reused = c->reused;
        auto answer = impl_->exchange(*c, req);
        if (answer) {
            if (c->reused || !was_reused) {
                // keep_alive answered: pool it (exchange closed it otherwise)
                if (c->lowest().socket().is_open()) impl_->give_back(key, std::move(c));
            }
            return std::move(*answer);
        }
        c->close();
        if (!(was_reused && answer.error().nothing_received)) return std::unexpected(answer.error().error);
    }
    return std::unexpected(http_error{"unreachable"});
}

}  // namespace dinex::aws

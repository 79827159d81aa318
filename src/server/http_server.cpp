#include "server/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "api/application.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace dinex::server {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
// Each connection lives on one single-threaded io_context, so it needs no strand and no
// type-erased executor: the concrete executor type keeps the hot path free of both.
using executor_type = net::io_context::executor_type;
using stream_type = beast::basic_stream<tcp, executor_type>;
using socket_type = tcp::socket::rebind_executor<executor_type>::other;

namespace {

// A short unique id per request: a random per-process prefix and a counter.
class request_ids {
public:
    request_ids() {
        std::random_device rd;
        const std::uint64_t r = (std::uint64_t{rd()} << 32) ^ rd();
        static constexpr char hex[] = "0123456789abcdef";
        for (int i = 0; i < 12; ++i) prefix_ += hex[(r >> (i * 4)) & 0xF];
    }
    std::string next() {
        static constexpr char hex[] = "0123456789abcdef";
        std::uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
        std::string id = prefix_ + "-0000000000";
        for (std::size_t i = id.size(); i > prefix_.size() + 1 && n; --i, n >>= 4) id[i - 1] = hex[n & 0xF];
        return id;
    }

private:
    std::string prefix_;
    std::atomic<std::uint64_t> counter_{0};
};

// A client-supplied id is kept when it is short and plain, so traces join across services.
bool usable_request_id(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
}

}  // namespace

class session;

// One io_context and its thread's bookkeeping. Deadlines are checked by one sweep per context
// (every 250 ms) against a clock the sweep itself reads, instead of a timer armed per read and
// per write: on the hot path a deadline is one assignment, not a timer-queue operation.
struct worker_context {
    net::io_context io{1};
    net::steady_timer sweep{io};
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
    std::vector<std::weak_ptr<session>> sessions;  // touched only on this context's thread
};

struct http_server::impl {
    api::application& app;
    obs::logger& log;
    server_config config;
    // One io_context per thread (nginx's worker model): no locks in the reactor, no cross-thread
    // wake-ups. The first one also runs the acceptor, the signals and the shutdown timer.
    std::vector<std::unique_ptr<worker_context>> contexts;
    std::vector<net::executor_work_guard<executor_type>> keep_running;
    std::atomic<std::size_t> next_context{0};
    net::io_context& ioc;
    tcp::acceptor acceptor{ioc};
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    net::steady_timer grace_timer{ioc};
    request_ids ids;
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> connections{0};
    // Counted per request with relaxed atomics on the thread's own shard: no lock, no allocation.
    obs::http_metrics metrics;

    std::mutex sessions_mutex;
    std::set<std::weak_ptr<session>, std::owner_less<std::weak_ptr<session>>> sessions;

    static std::vector<std::unique_ptr<worker_context>> make_contexts(unsigned n) {
        std::vector<std::unique_ptr<worker_context>> out;
        for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<worker_context>());
        return out;
    }
    static unsigned thread_count(unsigned configured) {
        return configured ? configured : std::max(1U, std::thread::hardware_concurrency());
    }

    impl(api::application& a, obs::logger& l, server_config c)
        : app(a),
          log(l),
          config(std::move(c)),
          contexts(make_contexts(thread_count(config.threads))),
          ioc(contexts.front()->io) {
        for (auto& ctx : contexts) keep_running.push_back(net::make_work_guard(ctx->io.get_executor()));
        if (config.metrics) metrics.register_in(*config.metrics);
    }
    ~impl() {
        if (config.metrics) {
            config.metrics->remove(metrics.requests());
            config.metrics->remove(metrics.durations());
        }
    }

    void stop_all() {
        for (auto& guard : keep_running) guard.reset();
        for (auto& ctx : contexts) ctx->io.stop();
    }

    std::chrono::steady_clock::time_point drain_deadline{};

    void accept();
    void sweep(worker_context& ctx);
    void begin_shutdown();
    void wait_for_drain();
};

class session : public std::enable_shared_from_this<session> {
public:
    session(http_server::impl& server, worker_context& ctx, socket_type&& socket)
        : server_(server), ctx_(ctx), stream_(std::move(socket)) {
        beast::error_code ec;
        const auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) client_ = ep.address().to_string();
        stream_.socket().set_option(tcp::no_delay(true), ec);
    }
    ~session() { --server_.connections; }

    // Called by the sweep on this session's thread.
    bool expired(std::chrono::steady_clock::time_point now) const noexcept { return now > deadline_; }
    void close_now() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->ctx_.sessions.push_back(self);
            self->read();
        });
    }

    // Called on shutdown from any thread: an idle connection closes now, a busy one after its
    // response.
    void shutdown() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            if (!self->busy_) {
                beast::error_code ec;
                self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
                self->stream_.close();
            }
        });
    }

private:
    void read() {
        if (closing_) return close();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.config.max_header_bytes));
        parser_->body_limit(server_.config.max_body_bytes);
        // The first byte of a request may take the keep-alive time; once it starts, the whole
        // request must arrive within the read timeout (slow clients cannot hold a thread: reads
        // are asynchronous, and the deadline closes them).
        deadline_ = ctx_.now + (requests_served_ == 0 ? server_.config.read_timeout
                                                      : server_.config.keep_alive_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        busy_ = true;
        started_ = std::chrono::steady_clock::now();
        const auto& h = parser_->get();
        if (h.target().size() > server_.config.max_target_bytes) {
            return reject(414, "the request target is longer than " + std::to_string(server_.config.max_target_bytes) +
                                   " bytes",
                          "target", "max_bytes:" + std::to_string(server_.config.max_target_bytes));
        }
        if (static_cast<std::size_t>(std::distance(h.begin(), h.end())) > server_.config.max_header_count) {
            return reject(431, "the request has more than " + std::to_string(server_.config.max_header_count) +
                                   " header fields",
                          "headers", "max_count:" + std::to_string(server_.config.max_header_count));
        }
        // An Expect: 100-continue client waits for a go-ahead before sending the body.
        if (beast::iequals(h[http::field::expect], "100-continue")) {
            if (parser_->content_length() && *parser_->content_length() > server_.config.max_body_bytes) {
                return on_read_error(http::error::body_limit);
            }
            auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, h.version());
            http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                if (wec) return self->close();
                self->read_body();
            });
            return;
        }
        read_body();
    }

    void read_body() {
        // Most requests (every GET) end with their header: no further read, no timer to arm.
        if (parser_->is_done()) return dispatch_request();
        deadline_ = ctx_.now + server_.config.read_timeout;
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return self->on_read_error(ec);
                             self->dispatch_request();
                         });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
            ec == beast::error::timeout || ec == net::error::connection_reset || ec == net::error::eof) {
            return close();
        }
        if (requests_served_ == 0 && !busy_ && buffer_.size() == 0 && ec == http::error::partial_message) {
            return close();
        }
        // The request cannot be parsed: answer once, then close, since the stream is out of sync.
        if (ec == http::error::body_limit) {
            return reject(413, "the body is larger than " + std::to_string(server_.config.max_body_bytes) + " bytes",
                          "body", "max_bytes:" + std::to_string(server_.config.max_body_bytes));
        }
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            return reject(431,
                          "the request headers are larger than " + std::to_string(server_.config.max_header_bytes) +
                              " bytes",
                          "headers", "max_bytes:" + std::to_string(server_.config.max_header_bytes));
        }
        reject(400, "the request is not valid HTTP/1.1: " + ec.message(), "request", "http");
    }

    // Answers a request the server refuses before the application sees it, then closes.
    void reject(int status, std::string message, std::string field, std::string rule) {
        const std::string request_id = server_.ids.next();
        const auto code = status == 413 ? core::errc::payload_too_large : core::errc::invalid_argument;
        api::response res = api::error_response(core::error::field(code, std::move(message), std::move(field),
                                                                   std::move(rule)),
                                                request_id);
        res.status = status;
        res.route = "unparsed";
        closing_ = true;
        if (started_ == std::chrono::steady_clock::time_point{}) started_ = std::chrono::steady_clock::now();
        write_response(std::move(res), request_id, "-", 0, 11, false);
    }

    void dispatch_request() {
        deadline_ = std::chrono::steady_clock::time_point::max();
        auto& msg = parser_->get();
        api::request req;
        req.method = std::string(msg.method_string());
        const std::string_view target = msg.target();
        const auto q = target.find('?');
        req.path = std::string(target.substr(0, q));
        if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
        req.headers.reserve(16);
        for (const auto& f : msg) req.headers.push_back({lower(f.name_string()), std::string(f.value())});
        req.body = std::move(msg.body());
        req.remote_address = client_;
        const std::string_view incoming_id = msg["x-request-id"];
        req.request_id = usable_request_id(incoming_id) ? std::string(incoming_id) : server_.ids.next();

        const bool keep_alive = msg.keep_alive() && !server_.stopping.load();
        const unsigned version = msg.version();
        const bool head = msg.method() == http::verb::head;
        const std::size_t bytes_in = req.body.size();
        std::string method = req.method;
        std::string request_id = req.request_id;

        server_.app.handle(std::move(req), [self = shared_from_this(), keep_alive, version, head, bytes_in,
                                            method = std::move(method),
                                            request_id = std::move(request_id)](api::response res) mutable {
            // Writes complete on the store's thread: hop back onto this connection's thread. Reads
            // answer inline, already on it: dispatch runs those at once instead of queueing them.
            net::dispatch(self->stream_.get_executor(),
                      [self, res = std::move(res), keep_alive, version, head, bytes_in, method = std::move(method),
                       request_id = std::move(request_id)]() mutable {
                          self->write_response(std::move(res), request_id, method, bytes_in, version,
                                               keep_alive && !self->closing_, head);
                      });
        });
    }

    void write_response(api::response res, const std::string& request_id, std::string_view method,
                        std::size_t bytes_in, unsigned version, bool keep_alive, bool head = false) {
        // Serialized by hand into one buffer: the header values are ours (or came through Beast's
        // parser, which admits no CR or LF), and one contiguous write is the cheapest there is.
        const std::size_t bytes_out = res.body.size();
        const bool has_body = res.status != 204 && res.status != 304;
        // Written into a buffer the session keeps (no allocation once warm). One write is in
        // flight at a time. (A gathered write of head and moved body measured no faster.)
        std::string& out = head_out_;
        out.clear();
        out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
        out += std::to_string(res.status);
        out += ' ';
        out += http::obsolete_reason(static_cast<http::status>(res.status));
        out += "\r\n";
        for (const auto& h : res.headers) {
            out += h.name;
            out += ": ";
            out += h.value;
            out += "\r\n";
        }
        out += "x-content-type-options: nosniff\r\nx-request-id: ";
        out += request_id;
        out += "\r\n";
        if (has_body) {
            out += "content-length: ";
            out += std::to_string(bytes_out);
            out += "\r\n";
        }
        if (!keep_alive) {
            out += "connection: close\r\n";
        } else if (version == 10) {
            out += "connection: keep-alive\r\n";
        }
        out += "\r\n";
        if (has_body && !head) out += res.body;

        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        server_.log.access({request_id, method, res.route, res.status, ms, client_, bytes_in, bytes_out, res.log_note});
        if (res.status >= 500) obs::log_server_error(server_.log, request_id, res.route, res.status, res.log_note);
        server_.metrics.observe(res.route, method, res.status, ms / 1000.0);

        deadline_ = ctx_.now + server_.config.read_timeout;
        net::async_write(stream_, net::buffer(head_out_), [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
            self->after_write(ec, keep_alive);
        });
    }

    void after_write(beast::error_code ec, bool keep_alive) {
        busy_ = false;
        ++requests_served_;
        if (ec || !keep_alive || closing_) return close();
        read();
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    http_server::impl& server_;
    worker_context& ctx_;
    std::string head_out_;  // the answer being written, reused from request to request
    stream_type stream_;
    // No deadline while the application works on the request (a durable write waits for its group
    // commit); reads and writes set one.
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    beast::flat_buffer buffer_;  // bounded by the parser's header and body limits
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string client_;
    std::chrono::steady_clock::time_point started_{};
    std::uint64_t requests_served_ = 0;
    bool busy_ = false;
    bool closing_ = false;
};

void http_server::impl::accept() {
    auto& target = *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
    acceptor.async_accept(target.io.get_executor(), [this, &target](beast::error_code ec, socket_type socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || stopping) return;
            log.log(obs::level::warn, "accept failed", {{"error", std::string_view(ec.message())}});
            return accept();
        }
        if (stopping) return;
        if (connections.load() >= config.max_connections) {
            // Over the cap: refuse at once rather than queue work we cannot serve in time.
            beast::error_code ignored;
            socket.close(ignored);
            return accept();
        }
        ++connections;
        auto s = std::make_shared<session>(*this, target, std::move(socket));
        {
            const std::lock_guard lock(sessions_mutex);
            if (sessions.size() > 1024) std::erase_if(sessions, [](const auto& w) { return w.expired(); });
            sessions.insert(s);
        }
        s->start();
        accept();
    });
}

void http_server::impl::sweep(worker_context& ctx) {
    ctx.now = std::chrono::steady_clock::now();
    std::erase_if(ctx.sessions, [&](const std::weak_ptr<session>& w) {
        const auto s = w.lock();
        if (!s) return true;
        if (s->expired(ctx.now)) s->close_now();  // its pending read or write ends with an error
        return false;
    });
    ctx.sweep.expires_after(std::chrono::milliseconds(250));
    ctx.sweep.async_wait([this, &ctx](beast::error_code ec) {
        if (!ec) sweep(ctx);
    });
}

void http_server::impl::begin_shutdown() {
    if (stopping.exchange(true)) return;
    log.log(obs::level::info, "shutting down", {{"grace_seconds", std::int64_t{config.shutdown_grace.count()}}});
    beast::error_code ec;
    acceptor.close(ec);
    signals.cancel();
    std::vector<std::shared_ptr<session>> live;
    {
        const std::lock_guard lock(sessions_mutex);
        for (const auto& w : sessions) {
            if (auto s = w.lock()) live.push_back(std::move(s));
        }
        sessions.clear();
    }
    for (auto& s : live) s->shutdown();
    drain_deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
    wait_for_drain();
}

// Polls until every connection has finished (then nothing is left to run) or the grace period is
// over (then whatever is still running is cut off).
void http_server::impl::wait_for_drain() {
    if (connections.load() == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
        stop_all();
        return;
    }
    grace_timer.expires_after(std::chrono::milliseconds(20));
    grace_timer.async_wait([this](beast::error_code ec) {
        if (!ec) wait_for_drain();
    });
}

http_server::http_server(api::application& app, obs::logger& log, server_config config)
    : impl_(std::make_unique<impl>(app, log, std::move(config))) {}

http_server::~http_server() = default;

void http_server::listen() {
    auto& a = impl_->acceptor;
    const tcp::endpoint ep{net::ip::make_address(impl_->config.host), impl_->config.port};
    a.open(ep.protocol());
    a.set_option(net::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(net::socket_base::max_listen_connections);
}

std::uint16_t http_server::port() const noexcept {
    beast::error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

void http_server::run() {
    impl_->signals.async_wait([this](beast::error_code ec, int) {
        if (!ec) impl_->begin_shutdown();
    });
    for (auto& ctx : impl_->contexts) {
        net::post(ctx->io, [this, c = ctx.get()] { impl_->sweep(*c); });
    }
    impl_->accept();
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < impl_->contexts.size(); ++i) {
        workers.emplace_back([ctx = impl_->contexts[i].get()] { ctx->io.run(); });
    }
    impl_->ioc.run();
    for (auto& t : workers) t.join();
}

void http_server::stop() {
    net::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

}  // namespace dinex::server

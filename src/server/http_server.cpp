#include "server/http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/application.hpp"
#include "core/text.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "server/request_checks.hpp"

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
bool usable_request_id(std::string_view s) { return core::is_plain_token(s, 64, "-_."); }

// Out of descriptors or kernel memory: accepting again at once fails again at once. Compared by
// value: nothing here may need a descriptor, and the sanitizers' type checks of a category's
// virtual calls do (they probe memory through a pipe).
const char* accept_starved(const beast::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return nullptr;
    switch (ec.value()) {
        case EMFILE: return "EMFILE";
        case ENFILE: return "ENFILE";
        case ENOBUFS: return "ENOBUFS";
        case ENOMEM: return "ENOMEM";
        default: return nullptr;
    }
}

// A handler that throws must cost its request, not the process: the loop logs and runs on.
void run_guarded(net::io_context& io, obs::logger& log) {
    for (;;) {
        try {
            io.run();
            return;
        } catch (const std::exception& e) {
            log.log(obs::level::error, "unhandled exception in the server",
                    {{"error", std::string_view(e.what())}});
        } catch (...) {
            log.log(obs::level::error, "unhandled exception in the server",
                    {{"error", std::string_view("unknown")}});
        }
    }
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
    // Open connections per client address; touched once per connection, not per request. Before
    // `contexts`: sessions still queued in a context release their address when it is destroyed.
    std::mutex per_address_mutex;
    std::unordered_map<std::string, std::size_t> per_address;
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

    // While accept() is starved of descriptors it waits on this instead of spinning.
    net::steady_timer accept_pause{ioc};
    request_limits limits;

    bool claim_address(const std::string& address) {
        const std::lock_guard lock(per_address_mutex);
        auto& n = per_address[address];
        if (n >= config.max_connections_per_address) {
            if (n == 0) per_address.erase(address);
            return false;
        }
        ++n;
        return true;
    }
    void release_address(const std::string& address) {
        const std::lock_guard lock(per_address_mutex);
        const auto it = per_address.find(address);
        if (it != per_address.end() && --it->second == 0) per_address.erase(it);
    }

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
        limits.max_header_bytes = config.max_header_bytes;
        limits.max_header_count = config.max_header_count;
        limits.max_target_bytes = config.max_target_bytes;
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
    session(http_server::impl& server, worker_context& ctx, socket_type&& socket, std::string client)
        : server_(server),
          ctx_(ctx),
          stream_(std::move(socket)),
          // Room for a whole head plus one read: a trailer section or chunk line that does not fit
          // is refused (431) instead of growing without bound.
          buffer_(server.config.max_header_bytes + 65536),
          client_(std::move(client)) {
        beast::error_code ec;
        stream_.socket().set_option(tcp::no_delay(true), ec);
    }
    ~session() {
        server_.release_address(client_);
        --server_.connections;
    }

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
        parser_.emplace(buffer_, server_.limits);
        parser_->header_limit(static_cast<std::uint32_t>(server_.config.max_header_bytes));
        // No body limit while the head is read: Beast would hold a Content-Length to it before the
        // application has said what this client may send (admit_body sets it).
        parser_->body_limit(boost::none);
        body_limit_ = server_.config.max_body_bytes;
        started_ = {};
        if (buffer_.size() > 0) return read_header();  // pipelined: the next request is here
        // Waiting for the first byte: a new connection gets the first-byte time, a kept-alive one
        // the keep-alive time. The read is the one Beast would make itself, so it costs nothing.
        deadline_ = ctx_.now + (requests_served_ == 0 ? server_.config.first_byte_timeout
                                                      : server_.config.keep_alive_timeout);
        stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, 65536)),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    if (ec) return self->close();
                                    self->buffer_.commit(n);
                                    self->read_header();
                                });
    }

    void read_header() {
        // From its first byte, the whole request (head and body) must arrive within the read
        // timeout, on a new connection or a kept-alive one alike.
        deadline_ = ctx_.now + server_.config.read_timeout;
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        busy_ = true;
        started_ = std::chrono::steady_clock::now();
        if (auto bad = check_head(parser_->get(), server_.limits)) return reject(std::move(*bad));
        // Most requests (every GET) end with their header: no body to admit, nothing more to read.
        if (parser_->is_done()) return dispatch_request();
        admit_body();
    }

    // A body is coming: the application says, from the head alone, how much of one this client may
    // send (an anonymous client gets little) or refuses it (a wrong key) before a byte is read.
    void admit_body() {
        request_id_ = server_.ids.next();
        api::body_admission admitted;
        try {
            api::request head = to_request(parser_->get(), client_, request_id_);
            admitted = server_.app.admit_body(head);
        } catch (const std::exception& e) {
            return fail_internal(e.what());
        }
        if (admitted.refusal) {
            linger_ = true;
            closing_ = true;
            return write_response(*admitted.refusal, request_id_, parser_->get().method_string(), 0,
                                  parser_->get().version(), false);
        }
        body_limit_ = std::min(admitted.max_bytes, server_.config.max_body_bytes);
        parser_->body_limit(body_limit_);
        const auto length = parser_->content_length();
        if (length && *length > body_limit_) return on_read_error(http::error::body_limit);
        // An Expect: 100-continue client waits for a go-ahead before sending the body: given only
        // now, after the key was checked and the length found acceptable.
        if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
            auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                           parser_->get().version());
            http::async_write(stream_, *cont,
                              [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                                  if (wec) return self->close();
                                  self->read_body();
                              });
            return;
        }
        read_body();
    }

    void read_body() {
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
        if (!busy_ && buffer_.size() == 0 && ec == http::error::partial_message) return close();
        // The request cannot be parsed: answer once, then close, since the stream is out of sync.
        reject(rejection_of(ec, server_.limits, body_limit_, parser_ && parser_->is_header_done()));
    }

    // Answers a request the server refuses before the application sees it, then closes.
    void reject(rejection r) {
        const std::string request_id = server_.ids.next();
        const auto code = r.status == 413 ? core::errc::payload_too_large : core::errc::invalid_argument;
        api::response res = api::error_response(
            core::error::field(code, std::move(r.message), std::move(r.field), std::move(r.rule)),
            request_id);
        res.status = r.status;
        res.route = "unparsed";
        closing_ = true;
        linger_ = true;
        if (started_ == std::chrono::steady_clock::time_point{}) started_ = std::chrono::steady_clock::now();
        write_response(res, request_id, "-", 0, 11, false);
    }

    // The application threw: the client gets a 500 and the connection closes; the process lives on.
    void fail_internal(std::string_view what) {
        server_.log.log(obs::level::error, "request failed with an exception", {{"error", what}});
        const std::string request_id = request_id_.empty() ? server_.ids.next() : request_id_;
        api::response res = api::error_response(core::error::internal_error(std::string(what)), request_id);
        res.route = "unparsed";
        closing_ = true;
        linger_ = true;
        write_response(res, request_id, "-", 0, 11, false);
    }

    void dispatch_request() {
        deadline_ = std::chrono::steady_clock::time_point::max();
        auto& msg = parser_->get();
        const std::string_view incoming_id = msg["x-request-id"];
        std::string id = usable_request_id(incoming_id) ? std::string(incoming_id)
                         : request_id_.empty()          ? server_.ids.next()
                                                        : std::move(request_id_);
        request_id_.clear();
        api::request req = to_request(msg, client_, std::move(id));
        // Durable writes complete on the store's writer thread; the application hands the rest
        // of its work (encoding, this answer) back to this connection's thread through here.
        req.resume = [ex = stream_.get_executor()](api::task t) { net::dispatch(ex, std::move(t)); };

        const bool keep_alive = msg.keep_alive() && !server_.stopping.load();
        const unsigned version = msg.version();
        const bool head = msg.method() == http::verb::head;
        const std::size_t bytes_in = req.body.size();
        std::string method = req.method;
        std::string request_id = req.request_id;
        // Exactly one answer, whether the completion runs or the application throws first.
        auto answered = std::make_shared<std::atomic<bool>>(false);

        try {
            server_.app.handle(
                std::move(req), [self = shared_from_this(), keep_alive, version, head, bytes_in, method,
                                 request_id, answered](api::response res) mutable {
                    if (answered->exchange(true)) return;
                    net::dispatch(self->stream_.get_executor(),
                                  [self, res = std::move(res), keep_alive, version, head, bytes_in,
                                   method = std::move(method), request_id = std::move(request_id)]() mutable {
                                      self->write_response(res, request_id, method, bytes_in, version,
                                                           keep_alive && !self->closing_, head);
                                  });
                });
        } catch (const std::exception& e) {
            if (!answered->exchange(true)) {
                request_id_ = request_id;
                fail_internal(e.what());
            }
        }
    }

    void write_response(const api::response& res, const std::string& request_id, std::string_view method,
                        std::size_t bytes_in, unsigned version, bool keep_alive, bool head = false) {
        // Written into a buffer the session keeps (no allocation once warm), in one write. One
        // write is in flight at a time. (A gathered write of head and moved body measured no faster.)
        serialize_response(head_out_, res, request_id, version, keep_alive, head);

        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        server_.log.access({request_id, method, res.route, res.status, ms, client_, bytes_in, res.body.size(),
                            res.log_note});
        if (res.status >= 500)
            obs::log_server_error(server_.log, request_id, res.route, res.status, res.log_note);
        server_.metrics.observe(res.route, method, res.status, ms / 1000.0);

        deadline_ = ctx_.now + server_.config.read_timeout;
        net::async_write(stream_, net::buffer(head_out_),
                         [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                             self->after_write(ec, keep_alive);
                         });
    }

    void after_write(beast::error_code ec, bool keep_alive) {
        busy_ = false;
        ++requests_served_;
        if (ec) return close();
        if (linger_) return linger();
        if (!keep_alive || closing_) return close();
        read();
    }

    // Lingering close: after an early answer the client may still be sending its request; closing
    // with unread data would reset the connection and lose the answer. Stop sending, then read and
    // drop for a bounded time and size, then close.
    void linger() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return close();
        linger_end_ = ctx_.now + server_.config.linger_time;
        drain();
    }

    void drain() {
        // Each read may wait 5 s (nginx's lingering_timeout), all of them the linger time.
        deadline_ = std::min(linger_end_, ctx_.now + std::chrono::seconds(5));
        buffer_.clear();
        stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, 65536)),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->lingered_ += n;
                                    if (ec || self->lingered_ >= self->server_.config.linger_bytes) {
                                        return self->close();
                                    }
                                    self->drain();
                                });
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
    std::chrono::steady_clock::time_point linger_end_{};
    beast::flat_buffer buffer_;  // bounded: a head and one read's worth
    std::optional<strict_parser> parser_;
    std::string client_;
    std::string request_id_;  // given when the body was admitted, kept for the answer
    std::chrono::steady_clock::time_point started_{};
    std::uint64_t requests_served_ = 0;
    std::size_t body_limit_ = 0;
    std::size_t lingered_ = 0;
    bool busy_ = false;
    bool closing_ = false;
    bool linger_ = false;
};

void http_server::impl::accept() {
    auto& target = *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
    acceptor.async_accept(
        target.io.get_executor(), [this, &target](beast::error_code ec, socket_type socket) {
            if (ec) {
                if (ec == net::error::operation_aborted || stopping) return;
                if (const char* starved = accept_starved(ec)) {
                    // The pending connections stay in the backlog; try again when some descriptors may
                    // be free (nginx's accept_mutex_delay), logging once per pause, not once per try.
                    log.log(obs::level::warn, "accept paused: out of descriptors or memory",
                            {{"error", std::string_view(starved)}, {"pause_ms", std::int64_t{500}}});
                    accept_pause.expires_after(std::chrono::milliseconds(500));
                    accept_pause.async_wait([this](beast::error_code wec) {
                        if (!wec && !stopping) accept();
                    });
                    return;
                }
                log.log(obs::level::warn, "accept failed", {{"error", std::string_view(ec.message())}});
                return accept();
            }
            if (stopping) return;
            beast::error_code ep_ec;
            const auto ep = socket.remote_endpoint(ep_ec);
            std::string client = ep_ec ? std::string() : ep.address().to_string();
            if (connections.load() >= config.max_connections || !claim_address(client)) {
                // Over a cap: refuse at once rather than queue work we cannot serve in time.
                beast::error_code ignored;
                socket.close(ignored);
                return accept();
            }
            ++connections;
            auto s = std::make_shared<session>(*this, target, std::move(socket), std::move(client));
            {
                const std::lock_guard lock(sessions_mutex);
                if (sessions.size() > 1024)
                    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
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
    log.log(obs::level::info, "shutting down",
            {{"grace_seconds", std::int64_t{config.shutdown_grace.count()}}});
    beast::error_code ec;
    acceptor.close(ec);
    accept_pause.cancel();
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
    // Boost throws boost::system::system_error, which is no std::system_error: callers catch one type.
    try {
        const tcp::endpoint ep{net::ip::make_address(impl_->config.host), impl_->config.port};
        a.open(ep.protocol());
        a.set_option(net::socket_base::reuse_address(true));
        a.bind(ep);
        a.listen(net::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
        beast::error_code ignored;
        a.close(ignored);
        throw std::system_error(e.code().value(), std::system_category(), e.code().message());
    }
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
        workers.emplace_back([ctx = impl_->contexts[i].get(), this] { run_guarded(ctx->io, impl_->log); });
    }
    run_guarded(impl_->ioc, impl_->log);
    for (auto& t : workers) t.join();
}

void http_server::stop() {
    net::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

}  // namespace dinex::server

#pragma once
// The self-hosted front-end: a Boost.Beast HTTP/1.1 server doing API Gateway's part (limits,
// timeouts, request ids, access log) in front of the one application entry point.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace dinex::api {
class application;
}
namespace dinex::obs {
class logger;
class registry;
}  // namespace dinex::obs

namespace dinex::server {

struct server_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port (see http_server::port())
    unsigned threads = 0;       // 0: one per core
    std::size_t max_body_bytes = std::size_t{64} * 1024;
    std::size_t max_header_bytes = std::size_t{16} * 1024;  // request line and headers together (431)
    std::size_t max_header_count = 100;                     // header fields (431)
    std::size_t max_target_bytes = std::size_t{8} * 1024;   // the request target (414)
    std::size_t max_connections = 10'000;
    // One client address may hold this many of them, so one client cannot lock the others out.
    std::size_t max_connections_per_address = 1'000;
    std::chrono::seconds first_byte_timeout{10};  // a new connection must start its request within this
    std::chrono::seconds read_timeout{15};        // a whole request must arrive within this of its first byte
    std::chrono::seconds keep_alive_timeout{60};  // an idle connection is closed after this
    // After an error answer the rest of the request is read and dropped (lingering close, as nginx
    // does) for at most this long and this much, so the client reads the answer instead of a reset.
    std::chrono::seconds linger_time{30};
    std::size_t linger_bytes = std::size_t{4} * 1024 * 1024;
    std::chrono::seconds shutdown_grace{15};  // in-flight requests get this long on stop
    // Where the server's request counters are listed for /metrics (they are counted either way).
    obs::registry* metrics = nullptr;
};

class http_server {
public:
    http_server(api::application& app, obs::logger& log, server_config config);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and listens; throws std::system_error when the address is invalid or cannot be bound.
    void listen();
    std::uint16_t port() const noexcept;

    // Serves until SIGINT/SIGTERM or stop(); in-flight requests finish before it returns.
    void run();
    // Safe from any thread.
    void stop();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace dinex::server

#include "lambda/runtime_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <optional>

#include "text/json_string.hpp"

namespace dinex::lambda {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr std::string_view prefix = "/2018-06-01/runtime";
}

std::string error_body(std::string_view error_type, std::string_view message) {
    std::string out = "{\"errorMessage\":\"";
    text::append_json_escaped(out, message);
    out += "\",\"errorType\":\"";
    text::append_json_escaped(out, error_type);
    out += "\",\"stackTrace\":[]}";
    return out;
}

struct runtime_client::impl {
    std::string host;
    std::string port;
    net::io_context ioc;
    tcp::socket socket{ioc};
    beast::flat_buffer buffer;
    bool connected = false;

    explicit impl(const std::string& endpoint) {
        const auto colon = endpoint.rfind(':');
        host = endpoint.substr(0, colon);
        port = colon == std::string::npos ? "80" : endpoint.substr(colon + 1);
    }

    beast::error_code connect() {
        beast::error_code ec;
        tcp::resolver resolver(ioc);
        const auto results = resolver.resolve(host, port, ec);
        if (ec) return ec;
        socket = tcp::socket(ioc);
        net::connect(socket, results, ec);
        if (ec) return ec;
        socket.set_option(tcp::no_delay(true), ec);
        buffer.clear();
        connected = true;
        return {};
    }

    void disconnect() {
        beast::error_code ec;
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
        connected = false;
    }

    // One exchange on the kept-alive connection; a connection that went stale is reopened once
    // (only before anything of the answer was read, so nothing is sent twice after being answered).
    std::expected<http::response<http::string_body>, runtime_error> exchange(
        http::request<http::string_body>& req) {
        req.version(11);
        req.set(http::field::host, host + ":" + port);
        req.keep_alive(true);
        req.prepare_payload();
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!connected) {
                if (const auto ec = connect()) {
                    return std::unexpected(runtime_error{0, "cannot connect to the Runtime API at " + host +
                                                                ":" + port + ": " + ec.message()});
                }
            }
            beast::error_code ec;
            http::write(socket, req, ec);
            if (ec) {
                disconnect();
                continue;
            }
            http::response_parser<http::string_body> parser;
            parser.body_limit(max_event_bytes);
            http::read(socket, buffer, parser, ec);
            if (ec) {
                disconnect();
                if ((ec == http::error::end_of_stream || ec == net::error::eof ||
                     ec == net::error::connection_reset) &&
                    attempt == 0) {
                    continue;
                }
                return std::unexpected(runtime_error{0, "Runtime API read failed: " + ec.message()});
            }
            auto res = parser.release();
            if (!res.keep_alive()) disconnect();
            return res;
        }
        return std::unexpected(runtime_error{0, "Runtime API connection failed twice"});
    }

    std::expected<void, runtime_error> post(const std::string& target, std::string body,
                                            std::string_view error_type = {}) {
        http::request<http::string_body> req{http::verb::post, target, 11};
        req.set(http::field::content_type, "application/json");
        if (!error_type.empty()) req.set("Lambda-Runtime-Function-Error-Type", error_type);
        req.body() = std::move(body);
        auto res = exchange(req);
        if (!res) return std::unexpected(res.error());
        if (res->result_int() != 202) {
            return std::unexpected(runtime_error{static_cast<int>(res->result_int()),
                                                 "Runtime API answered " + std::to_string(res->result_int()) +
                                                     " to " + target + ": " + res->body().substr(0, 512)});
        }
        return {};
    }
};

runtime_client::runtime_client(const std::string& endpoint) : impl_(std::make_unique<impl>(endpoint)) {}
runtime_client::~runtime_client() = default;

std::expected<invocation, runtime_error> runtime_client::next() {
    http::request<http::string_body> req{http::verb::get, std::string(prefix) + "/invocation/next", 11};
    auto res = impl_->exchange(req);
    if (!res) return std::unexpected(res.error());
    if (res->result_int() != 200) {
        return std::unexpected(runtime_error{
            static_cast<int>(res->result_int()),
            "next answered " + std::to_string(res->result_int()) + ": " + res->body().substr(0, 512)});
    }
    invocation inv;
    inv.request_id = std::string((*res)["Lambda-Runtime-Aws-Request-Id"]);
    if (inv.request_id.empty()) {
        return std::unexpected(runtime_error{200, "next answered without Lambda-Runtime-Aws-Request-Id"});
    }
    const std::string_view deadline = (*res)["Lambda-Runtime-Deadline-Ms"];
    std::from_chars(deadline.data(), deadline.data() + deadline.size(), inv.deadline_ms);
    inv.function_arn = std::string((*res)["Lambda-Runtime-Invoked-Function-Arn"]);
    inv.trace_id = std::string((*res)["Lambda-Runtime-Trace-Id"]);
    inv.payload = std::move(res->body());
    return inv;
}

std::expected<void, runtime_error> runtime_client::post_response(std::string_view request_id,
                                                                 std::string body) {
    return impl_->post(std::string(prefix) + "/invocation/" + std::string(request_id) + "/response",
                       std::move(body));
}

std::expected<void, runtime_error> runtime_client::post_error(std::string_view request_id,
                                                              std::string_view error_type,
                                                              std::string_view message) {
    return impl_->post(std::string(prefix) + "/invocation/" + std::string(request_id) + "/error",
                       error_body(error_type, message), error_type);
}

std::expected<void, runtime_error> runtime_client::post_init_error(std::string_view error_type,
                                                                   std::string_view message) {
    return impl_->post(std::string(prefix) + "/init/error", error_body(error_type, message), error_type);
}

}  // namespace dinex::lambda

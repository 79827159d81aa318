#pragma once
// What the server checks of an HTTP/1.1 request beyond what Beast's parser does, kept apart from
// the connection so the libFuzzer target (tests/fuzz/fuzz_http_server.cpp) runs the same code
// over an in-memory stream. Included by the server and the fuzzer only: it brings in Beast.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.hpp"

namespace dinex::server {

struct request_limits {
    // The request line and headers; also the trailer fields.
    std::size_t max_header_bytes = std::size_t{16} * 1024;
    std::size_t max_header_count = 100;
    std::size_t max_target_bytes = std::size_t{8} * 1024;
};

// Beast's request parser with what it leaves to its user:
//  - a field longer than Beast can store makes it throw std::length_error (trailer fields are
//    not held to the header limit), which would end the process: refused as header_limit;
//  - trailer fields together are held to the header limit;
//  - obs-fold (RFC 9112 §5.2) is accepted by Beast, which joins the lines: refused here,
//    recognised by the value not lying in the input next to its name.
// `input` is the buffer the parser is fed from (the connection's), read to tell a joined value.
class strict_parser final : public boost::beast::http::request_parser<boost::beast::http::string_body> {
public:
    strict_parser(const boost::beast::flat_buffer& input, const request_limits& limits);

private:
    void on_field_impl(boost::beast::http::field f, boost::beast::string_view name,
                       boost::beast::string_view value, boost::beast::error_code& ec) override;

    const boost::beast::flat_buffer& input_;
    std::size_t max_field_bytes_;
    std::size_t trailer_bytes_left_;
};

// A request the server answers itself, before the application sees it; the connection closes.
struct rejection {
    int status = 400;
    std::string message;
    std::string field;
    std::string rule;
};

// The checks of a complete request head: target length (414), header count (431), exactly one
// Host on HTTP/1.1 and at most one on 1.0 (RFC 9112 §3.2), Transfer-Encoding exactly "chunked"
// and never beside Content-Length nor on HTTP/1.0 (§6.1, §6.3).
std::optional<rejection> check_head(const boost::beast::http::request<boost::beast::http::string_body>& head,
                                    const request_limits& limits);

// The rejection for a read that failed with `ec` (a malformed or oversized request).
// `body_limit` is the body limit the request was held to, `in_body` whether the head was complete.
rejection rejection_of(const boost::beast::error_code& ec, const request_limits& limits,
                       std::size_t body_limit, bool in_body);

// The application's view of a parsed head (and the body, when it was read).
api::request to_request(boost::beast::http::request<boost::beast::http::string_body>& msg,
                        std::string remote_address, std::string request_id);

// The response as bytes on the wire. The header values are ours (or came through Beast's parser,
// which admits no CR or LF).
void serialize_response(std::string& out, const api::response& res, std::string_view request_id,
                        unsigned version, bool keep_alive, bool head);

}  // namespace dinex::server

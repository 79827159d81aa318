// fuzz_http_server: bytes off the wire through the server's whole request path, read from an
// in-memory stream (beast::test::stream) instead of a socket: Beast's parser as the server uses
// it (server::strict_parser: chunking, trailers, obs-fold, field sizes), the head checks, the
// body admission (API keys: one writer key is configured, and requests may carry it), the
// application on a memory store, and the serialized answer; keep-alive requests follow each other
// on the same stream as on a connection. The first input byte sets how many bytes each read
// returns, so a request is cut anywhere. Checks (abort on violation):
//  - no exception escapes (Beast's std::length_error on a long trailer field ended the server);
//  - a request the server refuses itself is 400, 413, 414 or 431 with the documented error body;
//  - the application answers exactly once, synchronously on the memory store, never 500, and the
//    answer serializes to one status line with a Content-Length matching its body.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/read.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "../support/fakes.hpp"
#include "api/application.hpp"
#include "auth/api_key.hpp"
#include "auth/authenticator.hpp"
#include "fuzz_support.hpp"
#include "server/request_checks.hpp"
#include "store/memory/memory_key_store.hpp"
#include "store/memory/memory_store.hpp"

namespace {
using namespace dinex;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// The writer key the corpus uses: "Authorization: Bearer dnx_aaaaaaaaaaaa_bbbb…".
const std::string writer_key = "dnx_aaaaaaaaaaaa_" + std::string(52, 'b');
constexpr std::size_t max_body = 1024 * 1024;

struct world {
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    store::memory_key_store key_store;
    auth::authenticator keys{key_store};
    core::tracking_service service{store, clock, ids};
    std::optional<api::application> app;
    server::request_limits limits;

    world() {
        static const std::string spec = "writer:aaaaaaaaaaaa:" + auth::hash_key(writer_key);
        FUZZ_CHECK(!keys.add_configured_keys(spec, clock.now()), "the fuzz key is malformed");
        app.emplace(service, api::app_config{.version = "fuzz", .max_anonymous_body_bytes = 1024},
                    api::access_control{.keys = &keys});
    }
};

void check_rejection(const server::rejection& r) {
    FUZZ_CHECK(r.status == 400 || r.status == 413 || r.status == 414 || r.status == 431,
               "the server refused with " + std::to_string(r.status) + ": " + r.message);
    const auto code = r.status == 413 ? core::errc::payload_too_large : core::errc::invalid_argument;
    const api::response res =
        api::error_response(core::error::field(code, r.message, r.field, r.rule), "fuzz");
    fuzz::check_error_body(res.body, api::http_status(code), "fuzz");
}

void check_answer(const api::response& res, unsigned version, bool keep_alive) {
    FUZZ_CHECK(res.status >= 200 && res.status < 600 && res.status != 500,
               "status " + std::to_string(res.status) + ": " + res.body);
    std::string wire;
    server::serialize_response(wire, res, "fuzz", version, keep_alive, false);
    FUZZ_CHECK(wire.starts_with(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 "), wire.substr(0, 100));
    const auto end = wire.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string::npos, wire.substr(0, 200));
    if (res.status != 204 && res.status != 304) {
        FUZZ_CHECK(wire.size() - end - 4 == res.body.size(), "body and Content-Length differ");
    }
}

// One connection's worth of requests; returns when the stream ends or the server would close.
void serve(world& w, std::string_view input, std::size_t piece) {
    net::io_context ioc;
    beast::test::stream in(ioc, input);
    in.read_size(piece);
    in.close_remote();  // the input, then end of stream
    beast::flat_buffer buffer(w.limits.max_header_bytes + 65536);
    for (int n = 0; n < 32; ++n) {
        server::strict_parser parser(buffer, w.limits);
        parser.header_limit(static_cast<std::uint32_t>(w.limits.max_header_bytes));
        parser.body_limit(boost::none);  // as the server: set by admit_body once the head is in
        beast::error_code ec;
        http::read_header(in, buffer, parser, ec);
        if (ec == http::error::end_of_stream || ec == net::error::eof) return;
        if (ec == http::error::partial_message && buffer.size() == 0 && !parser.got_some()) return;
        if (ec) return check_rejection(server::rejection_of(ec, w.limits, max_body, false));
        if (auto bad = server::check_head(parser.get(), w.limits)) return check_rejection(*bad);
        if (!parser.is_done()) {
            api::request head = server::to_request(parser.get(), "127.0.0.1", "fuzz");
            api::body_admission admitted = w.app->admit_body(head);
            if (admitted.refusal) return check_answer(*admitted.refusal, parser.get().version(), false);
            const std::size_t limit = std::min(admitted.max_bytes, max_body);
            parser.body_limit(limit);
            if (parser.content_length() && *parser.content_length() > limit) {
                return check_rejection(server::rejection_of(http::error::body_limit, w.limits, limit, true));
            }
            http::read(in, buffer, parser, ec);
            if (ec) return check_rejection(server::rejection_of(ec, w.limits, limit, true));
        }
        const bool keep_alive = parser.get().keep_alive();
        const unsigned version = parser.get().version();
        api::request req = server::to_request(parser.get(), "127.0.0.1", "fuzz");
        int answers = 0;
        std::optional<api::response> answer;
        w.app->handle(std::move(req), [&](api::response r) {
            ++answers;
            answer = std::move(r);
        });
        FUZZ_CHECK(answers == 1, "answered " + std::to_string(answers) + " times");
        check_answer(*answer, version, keep_alive);
        if (!keep_alive) return;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = data[0] == 0 ? 65536 : data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    world w;  // per input: the store's contents never carry over from one input to the next
    try {
        serve(w, input, piece);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, std::string("an exception escaped the request path: ") + e.what());
    }
    return 0;
}

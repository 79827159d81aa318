#include "lambda/runtime.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <future>
#include <vector>

#include "core/error.hpp"
#include "lambda/apigw.hpp"
#include "obs/emf.hpp"

namespace dinex::lambda {

namespace {

void log_unhandled(obs::logger& log, std::string_view aws_request_id, std::string_view what) {
    log.log(obs::level::error, "unhandled exception", {{"aws_request_id", aws_request_id}, {"error", what}});
}

api::response internal_error(std::string_view request_id) {
    auto res = api::error_response(core::error::internal_error("unhandled exception"), request_id);
    res.route = "error";
    return res;
}

// One JSON document on stdout per answered request: the access fields (at log level info) and the
// CloudWatch EMF metrics, counting the tracking events the application reported stored (not
// replays; the status label is the stored event's, from the fixed list). A batch that stored
// several statuses adds one document per further status. One write, not through the logger's
// buffer: the metrics must not wait for, nor be dropped with, the application's log lines.
void emit_invocation(const runtime_context& ctx, const api::response& res, double latency_ms,
                     const obs::emf::access_fields* access) {
    std::vector<core::status> stored;
    if (ctx.events) stored = ctx.events->take();
    obs::emf::write_line(1, obs::emf::invocation_lines(ctx.environment, obs::emf::now_ms(), res.status,
                                                       latency_ms, access, stored));
}

}  // namespace

outcome handle_invocation(const runtime_context& ctx, const invocation& inv) {
    obs::logger& log = ctx.log;
    const auto started = std::chrono::steady_clock::now();
    std::string request_id;
    std::string method = "-";
    std::size_t bytes_in = 0;
    api::response res;
    try {
        auto req = decode_event(inv.payload);
        if (!req) {
            log.log(obs::level::warn, "invalid event",
                    {{"aws_request_id", std::string_view(inv.request_id)},
                     {"error", std::string_view(req.error().message)}});
            return {false, {}, req.error().type, req.error().message};
        }
        if (req->request_id.empty()) req->request_id = inv.request_id;
        request_id = req->request_id;
        method = req->method;
        bytes_in = req->body.size();
        // Writes complete on the store's writer thread: wait for the one answer.
        std::promise<api::response> promise;
        auto future = promise.get_future();
        ctx.app.handle(std::move(*req), [&promise](api::response r) { promise.set_value(std::move(r)); });
        res = future.get();
    } catch (const std::exception& e) {
        log_unhandled(log, inv.request_id, e.what());
        if (request_id.empty()) request_id = inv.request_id;
        res = internal_error(request_id);
    } catch (...) {
        log.log(obs::level::error, "unhandled exception",
                {{"aws_request_id", std::string_view(inv.request_id)}});
        if (request_id.empty()) request_id = inv.request_id;
        res = internal_error(request_id);
    }
    const std::size_t bytes_out = res.body.size();
    outcome out{true, encode_response(res, request_id), {}, {}};
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const obs::emf::access_fields access{.request_id = request_id,
                                         .method = method,
                                         .route = res.route,
                                         .bytes_in = bytes_in,
                                         .bytes_out = bytes_out,
                                         .note = res.log_note};
    emit_invocation(ctx, res, ms, log.enabled(obs::level::info) ? &access : nullptr);
    if (res.status >= 500) obs::log_server_error(log, request_id, res.route, res.status, res.log_note);
    return out;
}

outcome handle_stream_invocation(stream_consumer* streams, obs::logger& log, const invocation& inv) {
    if (streams == nullptr) {
        log.log(obs::level::error, "stream event without a notifier",
                {{"aws_request_id", std::string_view(inv.request_id)}});
        return {false,
                {},
                "Runtime.NotificationsNotConfigured",
                "a DynamoDB Streams event arrived but SNS_TOPIC is not set"};
    }
    try {
        return {true, streams->handle(inv.payload, inv.request_id), {}, {}};
    } catch (const std::exception& e) {
        log_unhandled(log, inv.request_id, e.what());
        return {false, {}, "Runtime.UnhandledException", "stream batch failed"};
    }
}

int run_loop(runtime_client& client, const runtime_context& ctx) {
    obs::logger& log = ctx.log;
    for (;;) {
        auto inv = client.next();
        if (!inv) {
            // 500 from next means the environment is broken: Lambda wants the runtime to exit.
            log.log(obs::level::error, "runtime api next failed",
                    {{"status", std::int64_t{inv.error().status}},
                     {"error", std::string_view(inv.error().message)}});
            log.flush();
            return 1;
        }
        // concurrency-mt-unsafe: Lambda's contract names the trace id in the environment; it is
        // set here, between invocations, while the environment's readers (the configuration, the
        // trust store) ran at start-up.
        if (inv->trace_id.empty()) {
            ::unsetenv("_X_AMZN_TRACE_ID");  // NOLINT(concurrency-mt-unsafe)
        } else {
            ::setenv("_X_AMZN_TRACE_ID", inv->trace_id.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
        }
        outcome out = is_stream_event(inv->payload) ? handle_stream_invocation(ctx.streams, log, *inv)
                                                    : handle_invocation(ctx, *inv);
        std::expected<void, runtime_error> posted =
            out.ok ? client.post_response(inv->request_id, std::move(out.payload))
                   : client.post_error(inv->request_id, out.error_type, out.error_message);
        if (!posted) {
            // 400/413 concern this invocation only (Lambda reports it to the caller): keep serving.
            log.log(obs::level::error, "runtime api post failed",
                    {{"aws_request_id", std::string_view(inv->request_id)},
                     {"status", std::int64_t{posted.error().status}},
                     {"error", std::string_view(posted.error().message)}});
            if (posted.error().status == 0 || posted.error().status >= 500) {
                log.flush();
                return 1;
            }
        }
        log.flush();  // Lambda freezes the process between invocations
    }
}

}  // namespace dinex::lambda

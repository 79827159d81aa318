// Google Benchmark micro-benchmarks of the hot, pure pieces: the JSON decoder and encoders,
// validation, the router, the lookup cache and SigV4 signing. Run: build/release/bench/micro/micro_benchmarks
#include <benchmark/benchmark.h>

#include "api/json_codec.hpp"
#include "api/lookup_cache.hpp"
#include "api/router.hpp"
#include "aws/sigv4.hpp"
#include "core/system_ports.hpp"
#include "core/time.hpp"
#include "core/tracking_service.hpp"
#include "obs/metrics.hpp"

namespace {

using namespace dinex;

constexpr std::string_view original_body =
    R"({"tracking_id":"TRK001","location":"Lima","status":"IN_TRANSIT"})";
constexpr std::string_view full_body =
    R"({"tracking_id":"TRK001","location":"Lima","status":"IN_TRANSIT","latitude":-12.046374,)"
    R"("longitude":-77.042793,"notes":"Frágil","description":"Left the hub","event_id":"scan-0042",)"
    R"("timestamp":"2026-11-29T09:30:00-05:00"})";

core::package package_with(std::size_t events) {
    core::package p;
    p.state.tracking_id = "TRK001";
    p.state.state = core::status::in_transit;
    p.state.location = "Lima";
    p.state.timestamp = 1'795'969'066'000;
    p.state.event_id = "01M8M1J94FN45QA50G6TD0YS9F";
    p.state.created_at = p.state.updated_at = p.state.timestamp;
    p.state.expires_at = p.state.timestamp + 30LL * 86'400'000;
    p.state.event_count = events;
    for (std::size_t i = 0; i < events; ++i) {
        core::event e;
        e.tracking_id = "TRK001";
        e.event_id = "01M8M1J94FN45QA50G6TD0YS" + std::to_string(10 + i);
        e.state = core::status::in_transit;
        e.location = "Lima";
        e.timestamp = e.received_at = p.state.timestamp - static_cast<core::millis>(i) * 60'000;
        e.description = "Left the hub";
        p.events.push_back(e);
    }
    return p;
}

void decode_original(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(api::decode_event_input(original_body));
}
BENCHMARK(decode_original);

void decode_all_fields(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(api::decode_event_input(full_body));
}
BENCHMARK(decode_all_fields);

void validate_event(benchmark::State& state) {
    core::system_clock clock;
    core::ulid_generator ids(clock);
    const auto input = *api::decode_event_input(full_body);
    const core::millis now = *core::parse_rfc3339("2026-11-29T15:00:00Z");
    for (auto _ : state) benchmark::DoNotOptimize(core::validate(input, now, {}, ids));
}
BENCHMARK(validate_event);

void encode_package(benchmark::State& state) {
    const auto p = package_with(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(api::encode_package(p));
}
BENCHMARK(encode_package)->Arg(1)->Arg(8)->Arg(100);

void route(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(api::match_route("/tracking"));
        benchmark::DoNotOptimize(api::match_route("/dev/tracking"));
    }
}
BENCHMARK(route);

void cache_hit(benchmark::State& state) {
    api::lookup_cache cache(10'000);
    cache.put(cache.begin("TRK001"), "TRK001", api::encode_package(package_with(8)), 1LL << 60);
    for (auto _ : state) benchmark::DoNotOptimize(cache.get("TRK001", 0));
}
BENCHMARK(cache_hit);

// What the HTTP server adds per request for /metrics: labels looked up, counter and histogram
// bumped (relaxed atomics on the thread's shard). Threads: shows whether shards contend.
void http_metrics_observe(benchmark::State& state) {
    static obs::http_metrics metrics;
    for (auto _ : state) metrics.observe("/tracking", "GET", 200, 0.0004);
}
BENCHMARK(http_metrics_observe)->Threads(1)->Threads(2);

void sigv4_sign(benchmark::State& state) {
    aws::signing_request req;
    req.method = "POST";
    req.path = "/";
    req.headers = {{"Host", "dynamodb.us-east-1.amazonaws.com"},
                   {"Content-Type", "application/x-amz-json-1.0"},
                   {"X-Amz-Target", "DynamoDB_20120810.Query"}};
    const std::string body(400, 'x');
    req.payload = body;
    const aws::credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"};
    const auto when = std::chrono::sys_seconds{std::chrono::seconds{1'795'969'066}};
    for (auto _ : state) benchmark::DoNotOptimize(aws::sign(req, creds, "us-east-1", "dynamodb", when));
}
BENCHMARK(sigv4_sign);

}  // namespace

BENCHMARK_MAIN();

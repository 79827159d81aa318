// The metrics registry and its one adapter, the Prometheus text format 0.0.4: exact output for a
// small registry, escaping, histogram buckets, counting from many threads, the store decorator and
// the application's /metrics route and counters.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "../support/fakes.hpp"
#include "api/application.hpp"
#include "obs/event_metrics.hpp"
#include "obs/metrics.hpp"
#include "store/measured/measured_store.hpp"
#include "store/memory/memory_store.hpp"

namespace dinex {
namespace {

constexpr std::array<std::string_view, 2> colours = {"red", "blue"};
constexpr std::array<std::string_view, 2> sizes = {"s", "l"};
constexpr std::array<double, 2> bounds = {0.1, 1.0};

TEST(Metrics, ExactTextForASmallRegistry) {
    obs::counter_family c("demo_things_total", "Things seen.", {{"colour", colours}, {"size", sizes}});
    obs::histogram_family h("demo_duration_seconds", "How long.", {{"colour", colours}}, bounds);
    obs::gauge_family g("demo_up", "Always 1.", [] { return std::vector<obs::sample>{{"", {}, 1.0}}; });
    c.inc(c.slot({1, 0}), 3);
    h.observe(h.slot({0}), 0.05);
    h.observe(h.slot({0}), 0.5);
    h.observe(h.slot({0}), 7.0);
    obs::registry r;
    r.add(c);
    r.add(h);
    r.add(g);
    EXPECT_EQ(obs::write_prometheus(r.collect()),
              "# HELP demo_things_total Things seen.\n"
              "# TYPE demo_things_total counter\n"
              "demo_things_total{colour=\"red\",size=\"s\"} 0\n"
              "demo_things_total{colour=\"red\",size=\"l\"} 0\n"
              "demo_things_total{colour=\"blue\",size=\"s\"} 3\n"
              "demo_things_total{colour=\"blue\",size=\"l\"} 0\n"
              "# HELP demo_duration_seconds How long.\n"
              "# TYPE demo_duration_seconds histogram\n"
              "demo_duration_seconds_bucket{colour=\"red\",le=\"0.1\"} 1\n"
              "demo_duration_seconds_bucket{colour=\"red\",le=\"1\"} 2\n"
              "demo_duration_seconds_bucket{colour=\"red\",le=\"+Inf\"} 3\n"
              "demo_duration_seconds_sum{colour=\"red\"} 7.55\n"
              "demo_duration_seconds_count{colour=\"red\"} 3\n"
              "# HELP demo_up Always 1.\n"
              "# TYPE demo_up gauge\n"
              "demo_up 1\n");
    r.remove(h);
    EXPECT_EQ(r.collect().size(), 2U);
}

TEST(Metrics, ZeroSeriesLeftOutWhenAsked) {
    obs::counter_family c("sparse_total", "Sparse.", {{"colour", colours}}, false);
    c.inc(c.slot({1}));
    obs::registry r;
    r.add(c);
    EXPECT_EQ(obs::write_prometheus(r.collect()),
              "# HELP sparse_total Sparse.\n# TYPE sparse_total counter\nsparse_total{colour=\"blue\"} 1\n");
}

TEST(Metrics, Escaping) {
    std::string help, label;
    obs::append_help_escaped(help, "a\\b\n\"c\"");
    obs::append_label_escaped(label, "a\\b\n\"c\"");
    EXPECT_EQ(help, "a\\\\b\\n\"c\"");
    EXPECT_EQ(label, "a\\\\b\\n\\\"c\\\"");
    obs::gauge_family g("odd", "line one\nline two", [] {
        return std::vector<obs::sample>{{"", {{"v", "say \"hi\"\\"}}, 2.5}};
    });
    obs::registry r;
    r.add(g);
    EXPECT_EQ(obs::write_prometheus(r.collect()),
              "# HELP odd line one\\nline two\n# TYPE odd gauge\nodd{v=\"say \\\"hi\\\"\\\\\"} 2.5\n");
}

TEST(Metrics, CountsFromManyThreadsAddUp) {
    obs::counter_family c("n_total", "n", {{"colour", colours}});
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) c.inc(c.slot({static_cast<std::size_t>(i % 2)}));
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(c.value(0), 60000U);
    EXPECT_EQ(c.value(1), 60000U);
}

TEST(Metrics, BucketBoundsAreInclusive) {
    obs::histogram_family h("b_seconds", "b", {{"colour", colours}}, bounds);
    h.observe(0, 0.1);  // le="0.1" holds 0.1 itself
    const auto f = h.collect();
    ASSERT_EQ(f.samples.size(), 5U);
    EXPECT_EQ(f.samples[0].value, 1);
    EXPECT_EQ(h.count(0), 1U);
    EXPECT_EQ(h.count(1), 0U);
}

TEST(Metrics, HttpLabelsComeFromFixedLists) {
    using namespace obs::http_labels;
    EXPECT_EQ(routes[route_index("/tracking")], "/tracking");
    EXPECT_EQ(routes[route_index("/tracking/ABC123")], "unmatched");
    EXPECT_EQ(methods[method_index("DELETE")], "DELETE");
    EXPECT_EQ(methods[method_index("TRACE")], "other");
    EXPECT_EQ(codes[code_index(429)], "429");
    EXPECT_EQ(codes[code_index(418)], "other");
    obs::http_metrics m;
    m.observe("/health", "GET", 200, 0.001);
    m.observe("/health", "GET", 200, 0.002);
    EXPECT_EQ(m.requests().value(m.requests().slot({route_index("/health"), 0, 0})), 2U);
}

TEST(Metrics, ProcessMetricsReadProc) {
    obs::process_metrics p;
    obs::registry r;
    p.register_in(r);
    const std::string text = obs::write_prometheus(r.collect());
    for (const char* name :
         {"process_resident_memory_bytes ", "process_open_fds ", "process_cpu_seconds_total ",
          "process_start_time_seconds ", "process_max_fds "}) {
        EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name;
    }
    EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos);
}

TEST(Metrics, StatusLabelsMatchTheCore) {
    obs::registry r;
    obs::prometheus_event_counter events(r);
    for (std::size_t i = 0; i < core::all_statuses.size(); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(core::all_statuses[i]), i);
        events.answered(core::all_statuses[i], core::outcome_kind::late_arrival);
    }
    const std::string text = obs::write_prometheus(r.collect());
    for (const auto s : core::all_statuses) {
        const std::string series = "dinex_tracking_events_total{status=\"" + std::string(core::to_string(s)) +
                                   "\",outcome=\"late_arrival\"} 1\n";
        EXPECT_NE(text.find(series), std::string::npos) << series;
    }
}

class MeasuredStore : public ::testing::Test {
protected:
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store inner;
    store::measured_store measured{inner};
    core::tracking_service service{measured, clock, ids};
};

TEST_F(MeasuredStore, TimesEveryOperationAndCountsBackEndFailures) {
    ASSERT_TRUE(service.track("ABC123").error().code == core::errc::not_found);
    bool done = false;
    core::event_input in;
    in.tracking_id = "ABC123";
    in.location = "Lima";
    in.status = "IN_TRANSIT";
    service.record(in, [&](core::result<core::append_outcome> r) { done = r.has_value(); });
    EXPECT_TRUE(done);
    inner.fail_next(1);
    EXPECT_FALSE(measured.ping());
    EXPECT_TRUE(measured.purge_expired(0));
    const auto& d = measured.durations();
    using op = store::measured_store;
    EXPECT_EQ(d.count(d.slot({op::find_op, 1})), 1U);
    EXPECT_EQ(d.count(d.slot({op::append_op, 1})), 1U);
    EXPECT_EQ(d.count(d.slot({op::ping_op, 1})), 1U);
    EXPECT_EQ(d.count(d.slot({op::purge_op, 1})), 1U);
    const auto& e = measured.errors();
    EXPECT_EQ(e.value(e.slot({op::ping_op, 1})), 1U);
    EXPECT_EQ(e.value(e.slot({op::find_op, 1})), 0U);
    EXPECT_EQ(measured.backend_name(), "memory");
}

class MetricsRoute : public ::testing::Test {
protected:
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    core::tracking_service service{store, clock, ids};
    obs::registry registry;
    obs::prometheus_event_counter events{registry};

    static api::response call(api::application& app, std::string method, std::string path,
                              std::string body = {}) {
        api::request req;
        req.method = std::move(method);
        req.path = std::move(path);
        req.body = std::move(body);
        req.request_id = "req-test";
        api::response out;
        app.handle(std::move(req), [&](api::response r) { out = std::move(r); });
        return out;
    }
};

TEST_F(MetricsRoute, PublicByDefaultWithTheTextFormat) {
    api::application app(service, {}, {}, &registry, {}, &events);
    const auto r = call(app, "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.route, "/metrics");
    ASSERT_FALSE(r.headers.empty());
    EXPECT_EQ(r.headers.front().value, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("# TYPE dinex_tracking_events_total counter\n"), std::string::npos);
    EXPECT_EQ(call(app, "POST", "/metrics").status, 405);
}

TEST_F(MetricsRoute, OffAnswers404) {
    api::application app(service, {.metrics = api::metrics_access::off}, {}, &registry);
    const auto r = call(app, "GET", "/metrics");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.route, "unmatched");
    api::application without(service, {});
    EXPECT_EQ(call(without, "GET", "/metrics").status, 404);
}

TEST_F(MetricsRoute, CountsEventsByStatusAndOutcome) {
    api::application app(service, {}, {}, &registry, {}, &events);
    const std::string body =
        R"({"tracking_id":"ABC123","location":"Lima","status":"PICKED_UP","event_id":"e1"})";
    EXPECT_EQ(call(app, "POST", "/tracking", body).status, 201);
    EXPECT_EQ(call(app, "POST", "/tracking", body).status, 200);
    const std::string text = call(app, "GET", "/metrics").body;
    EXPECT_NE(text.find("dinex_tracking_events_total{status=\"PICKED_UP\",outcome=\"created\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("dinex_tracking_events_total{status=\"PICKED_UP\",outcome=\"replay\"} 1\n"),
              std::string::npos);
    EXPECT_EQ(text.find("ABC123"), std::string::npos);  // never a tracking id as a label
}

TEST(MetricsAccess, Parse) {
    EXPECT_EQ(api::parse_metrics_access("public"), api::metrics_access::open);
    EXPECT_EQ(api::parse_metrics_access("admin"), api::metrics_access::admin);
    EXPECT_EQ(api::parse_metrics_access("off"), api::metrics_access::off);
    EXPECT_FALSE(api::parse_metrics_access("yes"));
}

}  // namespace
}  // namespace dinex

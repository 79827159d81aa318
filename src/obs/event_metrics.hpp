#pragma once
// The two adapters of core::event_sink: a Prometheus counter (the local server's GET /metrics) and
// an EMF collector (the Lambda, whose metrics are lines on stdout, written once per invocation).
#include <array>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "core/event_sink.hpp"
#include "obs/metrics.hpp"

namespace dinex::obs {

// dinex_tracking_events_total{status,outcome}, registered in `registry` while it lives.
class prometheus_event_counter final : public core::event_sink {
public:
    explicit prometheus_event_counter(registry& r);
    ~prometheus_event_counter() override;
    prometheus_event_counter(const prometheus_event_counter&) = delete;
    prometheus_event_counter& operator=(const prometheus_event_counter&) = delete;

    void answered(core::status event_status, core::outcome_kind kind) noexcept override;

    // Label values, indexed by enumerator (core/enum_names.hpp checks the order).
    static constexpr auto status_labels = core::names_of(core::status_names);
    static constexpr auto outcome_labels = core::names_of(core::outcome_names);

private:
    registry& registry_;
    counter_family events_;
};

// The statuses of the events an invocation stored (replays are not new events), for its EMF
// TrackingEvents lines. The Lambda handles one invocation at a time; the lock is for the store's
// writer thread, which answers writes.
class emf_event_collector final : public core::event_sink {
public:
    void answered(core::status event_status, core::outcome_kind kind) noexcept override;
    // What was stored since the last call, in answer order.
    std::vector<core::status> take();

private:
    std::mutex mutex_;
    std::vector<core::status> stored_;
};

}  // namespace dinex::obs

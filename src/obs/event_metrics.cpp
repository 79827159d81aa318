#include "obs/event_metrics.hpp"

namespace dinex::obs {

prometheus_event_counter::prometheus_event_counter(registry& r)
    : registry_(r),
      events_(
          "dinex_tracking_events_total",
          "Tracking events answered by POST /tracking: created (new current state), late_arrival (history "
          "only) or replay (already stored), by the event's status.",
          {{"status", status_labels}, {"outcome", outcome_labels}}) {
    registry_.add(events_);
}

prometheus_event_counter::~prometheus_event_counter() { registry_.remove(events_); }

void prometheus_event_counter::answered(core::status event_status, core::outcome_kind kind) noexcept {
    events_.inc(events_.slot({static_cast<std::size_t>(event_status), static_cast<std::size_t>(kind)}));
}

void emf_event_collector::answered(core::status event_status, core::outcome_kind kind) noexcept {
    if (kind == core::outcome_kind::replay) return;
    try {
        const std::lock_guard lock(mutex_);
        stored_.push_back(event_status);
    } catch (...) {
        // Out of memory for a metric: the event is stored all the same, one TrackingEvents line is lost.
    }
}

std::vector<core::status> emf_event_collector::take() {
    const std::lock_guard lock(mutex_);
    return std::exchange(stored_, {});
}

}  // namespace dinex::obs

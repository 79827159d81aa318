#pragma once
// Where the application reports each tracking event it answered for: the local server counts them
// for Prometheus, the Lambda as CloudWatch EMF (obs/event_metrics.hpp has both adapters).
#include "core/lifecycle.hpp"
#include "core/model.hpp"

namespace dinex::core {

class event_sink {
public:
    virtual ~event_sink() = default;
    // One event of a POST /tracking or of a batch item, after the store answered: `kind` says
    // whether it was stored as the current state, stored late, or was a replay of a stored one.
    virtual void answered(status event_status, outcome_kind kind) noexcept = 0;
};

}  // namespace dinex::core

#pragma once
// What the store contract suites (and the unit tests of the layers above) share: a fresh folder
// per test, the submissions they store, and a synchronous append.
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.hpp"
#include "fakes.hpp"

namespace dinex::testing {

// A new, empty folder under the system's temporary directory: "<prefix>-<random>".
inline std::filesystem::path fresh_temp_dir(std::string_view prefix) {
    std::random_device rd;
    auto dir = std::filesystem::temp_directory_path() / (std::string(prefix) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    return dir;
}

// A submission whose timestamp and event id were given by the client, at Lima.
inline core::submission given_submission(std::string tracking_id, std::string event_id, core::status s,
                                         core::millis ts, core::millis now = base_time) {
    core::submission out;
    out.incoming.tracking_id = std::move(tracking_id);
    out.incoming.event_id = std::move(event_id);
    out.incoming.state = s;
    out.incoming.location = "Lima";
    out.incoming.timestamp = ts;
    out.incoming.received_at = now;
    out.timestamp_given = true;
    out.event_id_given = true;
    return out;
}

// store.append, waiting for its answer.
inline core::result<core::append_outcome> append_and_wait(core::store& store, const core::submission& sub,
                                                          const core::lifecycle_policy& policy) {
    std::promise<core::result<core::append_outcome>> p;
    auto f = p.get_future();
    store.append(sub, policy, [&p](core::result<core::append_outcome> r) { p.set_value(std::move(r)); });
    return f.get();
}

}  // namespace dinex::testing

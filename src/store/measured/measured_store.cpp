#include "store/measured/measured_store.hpp"

#include <chrono>

namespace dinex::store {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::size_t backend_index(std::string_view name) {
    for (std::size_t i = 0; i < measured_store::backends.size(); ++i) {
        if (measured_store::backends[i] == name) return i;
    }
    return 1;  // an unknown back-end (a test double) counts as memory
}

}  // namespace

measured_store::measured_store(core::store& inner)
    : inner_(inner),
      backend_(backend_index(inner.backend_name())),
      durations_("dinex_store_operation_duration_seconds",
                 "Time of one store operation, by operation and back-end.",
                 {{"operation", operations}, {"backend", backends}}, obs::duration_buckets),
      errors_("dinex_store_errors_total",
              "Store operations that failed in the back-end (unavailable or internal), by operation and "
              "back-end.",
              {{"operation", operations}, {"backend", backends}}) {}

void measured_store::register_in(obs::registry& r) const {
    r.add(durations_);
    r.add(errors_);
}

void measured_store::finish(operation op, double seconds, const core::error* e) noexcept {
    durations_.observe(durations_.slot({op, backend_}), seconds);
    if (e && (e->code == core::errc::unavailable || e->code == core::errc::internal)) {
        errors_.inc(errors_.slot({op, backend_}));
    }
}

core::result<std::optional<core::package>> measured_store::find(std::string_view tracking_id,
                                                                core::millis now, std::size_t max_events) {
    const auto t0 = clock_type::now();
    auto r = inner_.find(tracking_id, now, max_events);
    finish(find_op, seconds_since(t0), r ? nullptr : &r.error());
    return r;
}

void measured_store::append(core::submission sub, const core::lifecycle_policy& policy,
                            core::append_callback done) {
    const auto t0 = clock_type::now();
    inner_.append(std::move(sub), policy,
                  [this, t0, done = std::move(done)](core::result<core::append_outcome> r) mutable {
                      finish(append_op, seconds_since(t0), r ? nullptr : &r.error());
                      done(std::move(r));
                  });
}

void measured_store::append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                                  core::batch_callback done) {
    const auto t0 = clock_type::now();
    inner_.append_batch(
        std::move(subs), policy,
        [this, t0, done = std::move(done)](std::vector<core::result<core::append_outcome>> r) mutable {
            // A back-end failure fails every item alike: the first one tells.
            const core::error* e = nullptr;
            for (const auto& x : r) {
                if (!x &&
                    (x.error().code == core::errc::unavailable || x.error().code == core::errc::internal)) {
                    e = &x.error();
                    break;
                }
            }
            finish(append_batch_op, seconds_since(t0), e);
            done(std::move(r));
        });
}

core::result<core::package_page> measured_store::list_packages(const core::package_query& q) {
    const auto t0 = clock_type::now();
    auto r = inner_.list_packages(q);
    finish(list_op, seconds_since(t0), r ? nullptr : &r.error());
    return r;
}

core::result<core::export_page> measured_store::export_packages(std::string_view cursor, std::size_t limit,
                                                                core::millis now) {
    const auto t0 = clock_type::now();
    auto r = inner_.export_packages(cursor, limit, now);
    finish(export_op, seconds_since(t0), r ? nullptr : &r.error());
    return r;
}

core::result<std::size_t> measured_store::purge_expired(core::millis now) {
    const auto t0 = clock_type::now();
    auto r = inner_.purge_expired(now);
    finish(purge_op, seconds_since(t0), r ? nullptr : &r.error());
    return r;
}

core::result<void> measured_store::ping() {
    const auto t0 = clock_type::now();
    auto r = inner_.ping();
    finish(ping_op, seconds_since(t0), r ? nullptr : &r.error());
    return r;
}

}  // namespace dinex::store

#pragma once
// A decorator around any core::store that times each operation and counts its failures, so the
// stores themselves know nothing of metrics. Labels: operation (find, append, ping, purge,
// append_batch, list, export) and
// backend (sqlite, memory, dynamodb), both from fixed lists.
#include <array>
#include <string_view>

#include "core/ports.hpp"
#include "obs/metrics.hpp"

namespace dinex::store {

class measured_store final : public core::store {
public:
    enum operation : std::size_t {
        find_op,
        append_op,
        ping_op,
        purge_op,
        append_batch_op,
        list_op,
        export_op
    };
    static constexpr std::array<std::string_view, 7> operations = {"find",         "append", "ping",  "purge",
                                                                   "append_batch", "list",   "export"};
    static constexpr std::array<std::string_view, 3> backends = {"sqlite", "memory", "dynamodb"};

    explicit measured_store(core::store& inner);
    void register_in(obs::registry& r) const;

    std::string_view backend_name() const noexcept override { return inner_.backend_name(); }
    core::result<std::optional<core::package>> find(std::string_view tracking_id, core::millis now,
                                                    std::size_t max_events) override;
    void append(core::submission sub, const core::lifecycle_policy& policy,
                core::append_callback done) override;
    void append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                      core::batch_callback done) override;
    core::result<core::package_page> list_packages(const core::package_query& q) override;
    core::result<core::export_page> export_packages(std::string_view cursor, std::size_t limit,
                                                    core::millis now) override;
    core::result<std::size_t> purge_expired(core::millis now) override;
    core::result<void> ping() override;
    void stop() override { inner_.stop(); }
    core::webhook_store* webhooks() noexcept override { return inner_.webhooks(); }

    // For tests.
    const obs::histogram_family& durations() const noexcept { return durations_; }
    const obs::counter_family& errors() const noexcept { return errors_; }

private:
    // A failure of the back-end (unavailable, internal), not a domain answer such as a conflict.
    void finish(operation op, double seconds, const core::error* e) noexcept;

    core::store& inner_;
    std::size_t backend_;
    obs::histogram_family durations_;
    obs::counter_family errors_;
};

}  // namespace dinex::store

#pragma once
// The embedded default store. WAL with synchronous=FULL, so an acknowledged write survives power
// loss; one writer thread that commits queued writes in groups (one fsync per group, not per
// request); a pool of read connections that never wait for the writer.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/ports.hpp"
#include "core/webhooks.hpp"

namespace dinex::store {

struct sqlite_options {
    std::string path;                // database file; created with its schema when missing
    std::size_t max_batch = 1024;    // writes committed together at most
    std::size_t max_queue = 65536;   // writes waiting at most; beyond it appends fail fast (503)
    std::size_t purge_chunk = 2000;  // packages deleted per transaction by purge_expired
    // Reads only (export, backups of a read-only copy): the file must exist with the current
    // schema; nothing is created, migrated or written, and writes fail as unavailable.
    bool read_only = false;
};

class sqlite_store final : public core::store, public core::webhook_store {
public:
    // Opens (or creates) the database and migrates its schema to the current version; with
    // read_only, opens an existing one of the current version and only reads it. `delivery_ids`
    // names the outbox rows, which are listed and paged by id: it must make ids that sort in the
    // order they are made (core::monotonic_ulid_generator), and outlive the store.
    static core::result<std::unique_ptr<sqlite_store>> open(const sqlite_options& options,
                                                            core::id_generator& delivery_ids);
    ~sqlite_store() override;

    sqlite_store(const sqlite_store&) = delete;
    sqlite_store& operator=(const sqlite_store&) = delete;

    std::string_view backend_name() const noexcept override { return "sqlite"; }
    core::result<std::optional<core::package>> find(std::string_view tracking_id, core::millis now,
                                                    std::size_t max_events) override;
    void append(core::submission sub, const core::lifecycle_policy& policy,
                core::append_callback done) override;
    // The whole batch is one job of the group commit, in one savepoint (no savepoint per item):
    // an item refused by the rules writes nothing, and a storage failure undoes the whole batch,
    // every item answering with that error.
    void append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                      core::batch_callback done) override;
    core::result<core::package_page> list_packages(const core::package_query& q) override;
    // Packages in tracking_id order; the cursor is the last tracking_id of the previous page.
    core::result<core::export_page> export_packages(std::string_view cursor, std::size_t limit,
                                                    core::millis now) override;
    core::result<std::size_t> purge_expired(core::millis now) override;
    core::result<void> ping() override;
    core::webhook_store* webhooks() noexcept override { return this; }

    core::result<void> create_subscription(const core::subscription& s) override;
    core::result<std::vector<core::subscription>> list_subscriptions() override;
    core::result<std::optional<core::subscription>> find_subscription(std::string_view id) override;
    core::result<void> delete_subscription(std::string_view id) override;
    core::result<core::subscription> set_enabled(std::string_view id, bool enabled, core::millis now,
                                                 std::string_view reason) override;
    core::result<std::vector<core::delivery>> due_deliveries(
        core::millis now, std::size_t limit, const std::vector<std::string>& in_flight) override;
    core::result<core::attempt_effect> record_attempt(const core::delivery& d, const core::attempt_report& r,
                                                      const core::retry_policy& policy,
                                                      double jitter01) override;
    core::result<core::delivery_page> deliveries_of(std::string_view subscription_id, std::size_t limit,
                                                    std::optional<std::string_view> cursor) override;
    core::result<core::outbox_counts> counts() override;
    core::result<std::size_t> purge_deliveries(core::millis before) override;
    core::result<std::optional<core::millis>> next_due() override;
    void on_new_deliveries(std::function<void()> wake) override;

    // EXPLAIN QUERY PLAN of the listing's statement, one line per plan step: tests check that it
    // reads the index in order, never the whole table.
    core::result<std::vector<std::string>> listing_query_plans();

    // Commits what is queued, then stops the writer and closes every connection. Appends after
    // stop() fail with `unavailable`. Called by the destructor.
    void stop() override;

    // 1: packages, events; 2: api_keys; 3: webhooks; 4: estimated_delivery, the listing index;
    // 5: events keyed by (timestamp, arrival order)
    static constexpr int schema_version = 5;

    struct impl;

private:
    explicit sqlite_store(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace dinex::store

#pragma once
// The DynamoDB store (docs/DYNAMODB.md): one table, state and history under one
// partition key, idempotency markers, optimistic concurrency on the state item, one
// TransactWriteItems per accepted event. Appends run on a small bounded worker pool owned by the
// store, so the caller's thread never waits on the network.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/ports.hpp"

namespace dinex::aws {
class dynamodb_client;
}

namespace dinex::store {

struct dynamodb_store_options {
    std::string table;                             // TABLE_NAME
    std::shared_ptr<aws::dynamodb_client> client;  // shared: it owns the connection pool
    std::size_t workers = 4;                       // appends in flight at most
    std::size_t max_queue = 4096;                  // appends waiting at most; beyond: unavailable
    int max_rounds = 64;                           // read-decide-write rounds per append
    // Events of one package read and written together in a batch: the read is the state and one
    // marker per event (TransactGetItems: 25 items in moto and in AWS until 2022), the write two
    // actions per event (event, marker) and the state (TransactWriteItems: 100).
    std::size_t batch_chunk = 24;
};

class dynamodb_store final : public core::store {
public:
    explicit dynamodb_store(dynamodb_store_options options);
    ~dynamodb_store() override;
    dynamodb_store(const dynamodb_store&) = delete;
    dynamodb_store& operator=(const dynamodb_store&) = delete;

    std::string_view backend_name() const noexcept override { return "dynamodb"; }
    core::result<std::optional<core::package>> find(std::string_view tracking_id, core::millis now,
                                                    std::size_t max_events) override;
    void append(core::submission sub, const core::lifecycle_policy& policy,
                core::append_callback done) override;
    // Items are grouped by package; the groups run in parallel on the worker pool, each as one
    // TransactGetItems + one TransactWriteItems per `batch_chunk` events (docs/DYNAMODB.md).
    void append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                      core::batch_callback done) override;
    // One Query of the status index per status (every status when none is given), merged.
    core::result<core::package_page> list_packages(const core::package_query& q) override;
    // A Scan of the state items (a backup reads every item anyway), then each package's history;
    // the cursor is the Scan's LastEvaluatedKey.
    core::result<core::export_page> export_packages(std::string_view cursor, std::size_t limit,
                                                    core::millis now) override;
    // DynamoDB TTL deletes expired items itself (lazily; reads hide them meanwhile): returns 0.
    core::result<std::size_t> purge_expired(core::millis now) override;
    // DescribeTable.
    core::result<void> ping() override;

    // Finishes every queued append, then stops the workers. Appends after stop() fail with
    // `unavailable`. Called by the destructor.
    void stop() override;

    // The synchronous append the workers run (exposed for tests).
    core::result<core::append_outcome> append_now(const core::submission& sub,
                                                  const core::lifecycle_policy& policy);

    // The synchronous write of submissions of one package, in order (exposed for tests).
    std::vector<core::result<core::append_outcome>> append_group_now(const std::vector<core::submission>& subs,
                                                                     const core::lifecycle_policy& policy);

    struct impl;

private:
    void apply_chunk(const std::vector<core::submission>& subs, std::size_t first, std::size_t last,
                     const core::lifecycle_policy& policy, std::vector<core::result<core::append_outcome>>& out);

    std::unique_ptr<impl> impl_;
};

}  // namespace dinex::store

#pragma once
// The DynamoDB store (docs/DYNAMODB.md): one table, state and history under one partition key.
// A write commits with one conditional PutItem of the state item (optimistic concurrency on its
// version), which carries the digests of the package's event ids (idempotency) and the events it
// accepted until their own items are written. Appends run on a small bounded worker pool owned by
// the store, so the caller's thread never waits on the network.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/ports.hpp"
#include "store/dynamodb/item_codec.hpp"

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
    // Events of one package committed together in a batch. The state item carries them until their
    // own items exist (about 250 bytes each), and its size prices its writes and its index entry,
    // this one's and the next write's (1 KB per write unit): 8 keeps it near 2 KB.
    std::size_t batch_chunk = 8;
    // GET /tracking's read: eventually consistent (half the read units, as the original's GetItem)
    // unless set. Writes and the export always read consistently.
    bool consistent_lookups = false;
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
    std::vector<core::result<core::append_outcome>> append_group_now(
        const std::vector<core::submission>& subs, const core::lifecycle_policy& policy);

    struct impl;
    // What a write read of its package: the state item and the newest event items.
    struct package_snapshot {
        const boost::json::object* state_item = nullptr;
        std::vector<const boost::json::object*> events;  // newest first
        bool all_events = false;                         // no event item sorts below the last one
    };

private:
    core::result<void> make_pending_exist(const std::string& tracking_id,
                                          const std::vector<boost::json::object>& pending,
                                          const package_snapshot& seen);
    void put_events(const std::string& tracking_id, const std::vector<boost::json::object>& pending);
    core::result<std::optional<core::event>> stored_event(const std::string& tracking_id,
                                                          std::string_view event_id, std::string_view digests,
                                                          const dynamodb_items::state_extras& extras,
                                                          const package_snapshot& seen,
                                                          const core::package_state& current,
                                                          core::millis now);
    void apply_chunk(const std::vector<core::submission>& subs, std::size_t first, std::size_t last,
                     const core::lifecycle_policy& policy,
                     std::vector<core::result<core::append_outcome>>& out);

    std::unique_ptr<impl> impl_;
};

}  // namespace dinex::store

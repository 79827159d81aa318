#pragma once
// Private to src/store/sqlite: the one write connection and the thread that owns it. Writes are
// queued as jobs and committed in groups: one transaction (one fsync) for up to max_batch jobs,
// each job in its own savepoint, so a job that fails rolls back alone.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/lifecycle.hpp"
#include "core/ports.hpp"
#include "core/webhooks.hpp"
#include "store/sqlite/db.hpp"

namespace dinex::store::sqlite_detail {

struct write_connection {
    db_handle handle;
    statement begin, commit, savepoint, release, rollback_to;
    statement state, event_by_id, insert_event, upsert_state, delete_events, delete_package;
    statement expired_ids;
    statement insert_delivery;
    statement_cache prepared{nullptr};

    // The subscriptions, as committed: the append path matches every state change against them
    // without a query. Reloaded after a commit that changed which ones exist or are enabled.
    std::vector<core::subscription> subscriptions;
    bool subscriptions_changed = false;
    bool deliveries_added = false;
    core::id_generator& delivery_ids;

    // Opens (or creates) the database, sets it up for durable group commits and migrates its schema.
    write_connection(const std::string& path, core::id_generator& ids);

    void load_subscriptions();
    // One outbox row per subscription that wants `n`, in the current transaction.
    void add_deliveries(const core::notification& n, core::millis now);
    void remove_package(std::string_view tracking_id);
};

// One unit of work for the writer thread, run inside the group transaction.
struct write_job {
    virtual ~write_job() = default;
    // Runs inside a savepoint; throwing sqlite_failure rolls back this job only.
    virtual void apply(write_connection& c) = 0;
    virtual void failed(const core::error& e) = 0;
    // After the group's COMMIT; `commit_error` is set when the commit itself failed.
    virtual void finish(const core::error* commit_error) = 0;
};

struct append_job final : write_job {
    core::submission sub;
    core::lifecycle_policy policy;
    core::append_callback done;
    core::result<core::append_outcome> outcome;

    append_job(core::submission s, const core::lifecycle_policy& p, core::append_callback d)
        : sub(std::move(s)), policy(p), done(std::move(d)) {}

    void apply(write_connection& c) override;
    void failed(const core::error& e) override { outcome = core::fail(e); }
    void finish(const core::error* commit_error) override;
};

// A whole POST /tracking/batch (or an import chunk) as one job of the group commit: one
// transaction. Items refused by the rules are answers, not failures, and leave nothing behind;
// a storage failure (disk full, I/O) throws out of the job, whose savepoint undoes the whole
// batch, and every item gets that error. No savepoint per item: SQLite copies each page an item
// changes into the savepoint's journal, which cost a third of an import's time (docs/PERFORMANCE.md).
struct batch_job final : write_job {
    std::vector<core::submission> subs;
    core::lifecycle_policy policy;
    core::batch_callback done;
    std::vector<core::result<core::append_outcome>> outcomes;

    batch_job(std::vector<core::submission> s, const core::lifecycle_policy& p, core::batch_callback d)
        : subs(std::move(s)), policy(p), done(std::move(d)) {}

    void apply(write_connection& c) override;
    void failed(const core::error& e) override;
    void finish(const core::error* commit_error) override;
};

// Deletes up to `chunk` expired packages.
struct purge_job final : write_job {
    core::millis now;
    std::size_t chunk;
    std::size_t removed = 0;
    std::optional<core::error> error;
    std::promise<core::result<std::size_t>> promise;

    purge_job(core::millis n, std::size_t c) : now(n), chunk(c) {}

    void apply(write_connection& c) override;
    void failed(const core::error& e) override { error = e; }
    void finish(const core::error* commit_error) override;
};

// Any write of the webhook side, run by the writer in its group transaction. `fn` either writes and
// returns a value, or returns an error without writing.
template <class T>
struct call_job final : write_job {
    std::function<core::result<T>(write_connection&)> fn;
    std::optional<core::result<T>> out;
    std::promise<core::result<T>> promise;

    explicit call_job(std::function<core::result<T>(write_connection&)> f) : fn(std::move(f)) {}
    void apply(write_connection& c) override { out = fn(c); }
    void failed(const core::error& e) override { out = core::fail(e); }
    void finish(const core::error* commit_error) override {
        if (commit_error) out = core::fail(*commit_error);
        promise.set_value(out ? std::move(*out) : core::fail(core::error::internal_error("job not run")));
    }
};

// The writer thread and its queue.
class group_writer {
public:
    // Starts the thread.
    group_writer(std::unique_ptr<write_connection> connection, std::size_t max_batch, std::size_t max_queue);
    ~group_writer() { stop(); }
    group_writer(const group_writer&) = delete;
    group_writer& operator=(const group_writer&) = delete;

    // Takes the job and returns true, or leaves it with the caller and returns false when the
    // writer is stopping or the queue is full.
    bool enqueue(std::unique_ptr<write_job>& job);

    // Runs `fn` on the writer thread inside a group transaction and waits for the commit.
    template <class T>
    core::result<T> call(std::function<core::result<T>(write_connection&)> fn) {
        auto job = std::make_unique<call_job<T>>(std::move(fn));
        auto future = job->promise.get_future();
        std::unique_ptr<write_job> base = std::move(job);
        if (!enqueue(base))
            return core::fail(core::error::unavailable_error("sqlite: store stopping or queue full"));
        return future.get();
    }

    // Called after a commit that added outbox rows.
    void on_new_deliveries(std::function<void()> wake);

    // Commits what is queued, then stops the thread and closes the connection (a clean close
    // checkpoints the WAL into the main file). Later jobs are refused.
    void stop();

private:
    void run();
    void commit_group(std::vector<std::unique_ptr<write_job>>& batch);
    void after_commit(write_connection& c, bool rolled_back);

    std::unique_ptr<write_connection> connection_;
    const std::size_t max_batch_;
    const std::size_t max_queue_;

    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<std::unique_ptr<write_job>> queue_;
    bool stopping_ = false;

    std::mutex wake_mutex_;
    std::function<void()> wake_dispatcher_;

    std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace dinex::store::sqlite_detail

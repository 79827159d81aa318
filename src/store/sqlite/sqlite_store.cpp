#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/sqlite_key_store.hpp"

#include <sqlite3.h>

#include <algorithm>

#include <condition_variable>
#include <deque>
#include <algorithm>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/system_ports.hpp"
#include "core/text.hpp"
#include "core/webhooks.hpp"
#include "store/sqlite/db.hpp"
#include "store/sqlite/rows.hpp"
#include "store/sqlite/schema.hpp"

namespace dinex::store {
using namespace sqlite_detail;
namespace {

using core::millis;

// Where and how read connections open the database: the path, or (a read-only snapshot) a URI.
struct reader_target {
    std::string name;
    int flags = SQLITE_OPEN_READONLY;
};

// A WAL database in a folder this process cannot write, with no -shm beside it, cannot be read the
// usual way: SQLite must create the -shm. No process has it open for writing then (a writer would
// have made the -shm), so it is a snapshot, and SQLite may read it as immutable.
reader_target immutable_snapshot(const std::string& path) {
    std::string uri = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            static constexpr char hex[] = "0123456789ABCDEF";
            uri += '%';
            uri += hex[(static_cast<unsigned char>(c) >> 4) & 0xFU];
            uri += hex[static_cast<unsigned char>(c) & 0xFU];
        } else {
            uri += c;
        }
    }
    uri += "?immutable=1";
    return {std::move(uri), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI};
}

struct read_connection {
    db_handle handle;
    statement begin, commit, rollback, state, events, ping;
    statement_cache prepared{handle.db};
    statement list_by_status, export_ids, export_events;
    explicit read_connection(const reader_target& target)
        : handle(target.name, target.flags),
          begin(handle.db, "BEGIN"),
          commit(handle.db, "COMMIT"),
          rollback(handle.db, "ROLLBACK"),
          state(handle.db, select_state_sql),
          events(handle.db, select_events_sql),
          ping(handle.db, "SELECT count(*) FROM sqlite_schema"),
          list_by_status(handle.db, list_by_status_sql),
          export_ids(handle.db, export_ids_sql),
          export_events(handle.db, export_events_sql) {
        sqlite3_busy_timeout(handle.db, 5000);
        // Reads map the file instead of copying pages through SQLite's page cache: up to SQLite's
        // own ceiling (2 GiB), so a database of 10 million events (2 GiB) is read from the mapping
        // and GET stays as fast as with 10 thousand (docs/PERFORMANCE.md, "What made the
        // difference"). The mapped pages are the kernel's page cache, shared by every connection,
        // but they count in the process's VmRSS (docs/OPERATIONS.md).
        handle.exec("PRAGMA mmap_size = 2147418112");
    }
};

struct write_connection {
    db_handle handle;
    statement begin, commit, rollback, savepoint, release, rollback_to;
    statement state, event_by_id, insert_event, upsert_state, delete_events, delete_package;
    statement expired_ids;
    statement insert_delivery;
    statement_cache prepared{nullptr};

    // The subscriptions, as committed: the append path matches every state change against them
    // without a query. Reloaded after a commit that changed which ones exist or are enabled.
    std::vector<core::subscription> subscriptions;
    bool subscriptions_changed = false;
    bool deliveries_added = false;
    core::system_clock clock;
    core::monotonic_ulid_generator delivery_ids{clock};

    explicit write_connection(const std::string& path)
        : handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
        sqlite3_busy_timeout(handle.db, 5000);
        handle.exec("PRAGMA journal_mode = WAL");
        // FULL: the WAL is synced at every commit, so an acknowledged event survives power loss.
        handle.exec("PRAGMA synchronous = FULL");
        handle.exec("PRAGMA temp_store = MEMORY");
        // The writer touches the same hot pages (recent packages, index tails) batch after batch.
        handle.exec("PRAGMA cache_size = -65536");
        // Checkpoint every ~16 MiB of WAL instead of 4 MiB: fewer, larger copies into the database.
        handle.exec("PRAGMA wal_autocheckpoint = 4000");
        migrate();
        begin = statement(handle.db, "BEGIN IMMEDIATE");
        commit = statement(handle.db, "COMMIT");
        rollback = statement(handle.db, "ROLLBACK");
        savepoint = statement(handle.db, "SAVEPOINT job");
        release = statement(handle.db, "RELEASE job");
        rollback_to = statement(handle.db, "ROLLBACK TO job");
        state = statement(handle.db, select_state_sql);
        event_by_id = statement(handle.db, select_event_by_id_sql);
        insert_event = statement(
            handle.db,
            "INSERT INTO events (tracking_id, timestamp, event_id, status, location, received_at, "
            "description, notes, latitude, longitude, estimated_delivery, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12)");
        upsert_state = statement(
            handle.db,
            "INSERT INTO packages (tracking_id, status, location, notes, latitude, longitude, "
            "timestamp, event_id, created_at, updated_at, expires_at, event_count, estimated_delivery) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (tracking_id) DO UPDATE SET "
            "status = excluded.status, location = excluded.location, notes = excluded.notes, "
            "latitude = excluded.latitude, longitude = excluded.longitude, timestamp = "
            "excluded.timestamp, event_id = excluded.event_id, updated_at = excluded.updated_at, "
            "expires_at = excluded.expires_at, event_count = excluded.event_count, "
            "estimated_delivery = excluded.estimated_delivery");
        delete_events = statement(handle.db, "DELETE FROM events WHERE tracking_id = ?1");
        delete_package = statement(handle.db, "DELETE FROM packages WHERE tracking_id = ?1");
        expired_ids = statement(
            handle.db, "SELECT tracking_id FROM packages WHERE expires_at < ?1 LIMIT ?2");
        prepared = statement_cache(handle.db);
        insert_delivery = statement(
            handle.db,
            "INSERT INTO outbox (id, subscription_id, tracking_id, status, previous_status, location, "
            "timestamp, event_id, state, attempts, created_at, next_attempt_at, last_error) VALUES (?1, ?2, "
            "?3, ?4, ?5, ?6, ?7, ?8, 'pending', 0, ?9, ?9, '')");
        load_subscriptions();
    }

    void load_subscriptions() {
        std::vector<core::subscription> loaded;
        statement::run r(prepared.get(select_subscriptions));
        while (r.step()) loaded.push_back(read_subscription(r));
        subscriptions = std::move(loaded);
    }

    // One outbox row per subscription that wants `n`, in the current transaction.
    void add_deliveries(const core::notification& n, core::millis now) {
        for (const auto& sub : subscriptions) {
            if (!core::wants(sub, n)) continue;
            const std::optional<std::string> previous =
                n.previous ? std::optional<std::string>(std::string(core::to_string(*n.previous))) : std::nullopt;
            statement::run(insert_delivery)
                .bind(1, delivery_ids.next_id())
                .bind(2, sub.id)
                .bind(3, n.tracking_id)
                .bind(4, core::to_string(n.state))
                .bind(5, previous)
                .bind(6, n.location)
                .bind(7, n.timestamp)
                .bind(8, n.event_id)
                .bind(9, now)
                .exec();
            deliveries_added = true;
        }
    }

    void migrate() { migrate_schema(handle); }

    void remove_package(std::string_view tracking_id) {
        statement::run(delete_events).bind(1, tracking_id).exec();
        statement::run(delete_package).bind(1, tracking_id).exec();
    }
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

// The one per-item write path: every append, single or in a batch, goes through here, so
// whatever else an accepted event must write (in this same transaction) is written for both.
core::result<core::append_outcome> apply_submission(write_connection& c, const core::submission& sub,
                                                    const core::lifecycle_policy& policy) {
    const core::event& in = sub.incoming;
    std::optional<core::package_state> current;
    {
        statement::run r(c.state);
        r.bind(1, in.tracking_id);
        if (r.step()) current = read_state(r, in.tracking_id);
    }
    // An expired package is gone, whether or not the sweep has reached it yet.
    if (current && current->expires_at < in.received_at) {
        c.remove_package(in.tracking_id);
        current.reset();
    }
    std::optional<core::event> same_id;
    if (current) {
        statement::run r(c.event_by_id);
        r.bind(1, in.tracking_id).bind(2, in.event_id);
        if (r.step()) same_id = read_event(r, in.tracking_id);
    }
    auto outcome = core::decide(current, same_id, sub, policy);
    if (!outcome || outcome->kind == core::outcome_kind::replay) return outcome;

    const core::event& e = outcome->stored;
    statement::run(c.insert_event)
        .bind(1, e.tracking_id)
        .bind(2, e.timestamp)
        .bind(3, e.event_id)
        .bind(4, core::to_string(e.state))
        .bind(5, e.location)
        .bind(6, e.received_at)
        .bind(7, e.description)
        .bind(8, e.notes)
        .bind(9, lat_of(e.coordinates))
        .bind(10, lon_of(e.coordinates))
        .bind(11, e.estimated_delivery)
        .bind(12, static_cast<std::int64_t>(e.sequence))
        .exec();
    const core::package_state& s = outcome->state;
    statement::run(c.upsert_state)
        .bind(1, s.tracking_id)
        .bind(2, core::to_string(s.state))
        .bind(3, s.location)
        .bind(4, s.notes)
        .bind(5, lat_of(s.coordinates))
        .bind(6, lon_of(s.coordinates))
        .bind(7, s.timestamp)
        .bind(8, s.event_id)
        .bind(9, s.created_at)
        .bind(10, s.updated_at)
        .bind(11, s.expires_at)
        .bind(12, static_cast<std::int64_t>(s.event_count))
        .bind(13, s.estimated_delivery)
        .exec();
    // The outbox rows commit (or roll back) with the event: a state change is never
    // acknowledged without its deliveries, nor delivered without being stored.
    if (!c.subscriptions.empty()) {
        if (auto n = core::notification_of(*outcome)) c.add_deliveries(*n, in.received_at);
    }
    return outcome;
}

struct append_job final : write_job {
    core::submission sub;
    core::lifecycle_policy policy;
    core::append_callback done;
    core::result<core::append_outcome> outcome;

    append_job(core::submission s, const core::lifecycle_policy& p, core::append_callback d)
        : sub(std::move(s)), policy(p), done(std::move(d)) {}

    void apply(write_connection& c) override { outcome = apply_submission(c, sub, policy); }
    void failed(const core::error& e) override { outcome = core::fail(e); }
    void finish(const core::error* commit_error) override {
        if (commit_error && outcome) outcome = core::fail(*commit_error);
        done(std::move(outcome));
    }
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

    void apply(write_connection& c) override {
        outcomes.clear();
        outcomes.reserve(subs.size());
        for (const auto& sub : subs) outcomes.push_back(apply_submission(c, sub, policy));
    }
    void failed(const core::error& e) override {
        outcomes.assign(subs.size(), core::result<core::append_outcome>(core::fail(e)));
    }
    void finish(const core::error* commit_error) override {
        if (commit_error) {
            for (auto& o : outcomes) {
                if (o) o = core::fail(*commit_error);
            }
        }
        outcomes.resize(subs.size(), core::result<core::append_outcome>(
                                         core::fail(core::error::internal_error("sqlite: batch item not applied"))));
        done(std::move(outcomes));
    }
};

struct purge_job final : write_job {
    millis now;
    std::size_t chunk;
    std::size_t removed = 0;
    std::optional<core::error> error;
    std::promise<core::result<std::size_t>> promise;

    purge_job(millis n, std::size_t c) : now(n), chunk(c) {}

    void apply(write_connection& c) override {
        std::vector<std::string> ids;
        {
            statement::run r(c.expired_ids);
            r.bind(1, now).bind(2, static_cast<std::int64_t>(chunk));
            while (r.step()) ids.push_back(r.text(0));
        }
        for (const auto& id : ids) c.remove_package(id);
        removed = ids.size();
    }
    void failed(const core::error& e) override { error = e; }
    void finish(const core::error* commit_error) override {
        if (commit_error) error = *commit_error;
        if (error) {
            promise.set_value(core::fail(*error));
        } else {
            promise.set_value(removed);
        }
    }
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

}  // namespace

struct sqlite_store::impl {
    sqlite_options options;
    reader_target readers{options.path};
    std::unique_ptr<write_connection> writer;

    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<std::unique_ptr<write_job>> queue;
    bool stopping = false;
    std::thread writer_thread;

    std::mutex pool_mutex;
    std::vector<std::unique_ptr<read_connection>> idle_readers;

    std::mutex wake_mutex;
    std::function<void()> wake_dispatcher;

    explicit impl(sqlite_options o) : options(std::move(o)) {}

    // Runs `fn` on the writer thread inside a group transaction and waits for the commit.
    template <class T>
    core::result<T> write(std::function<core::result<T>(write_connection&)> fn) {
        auto job = std::make_unique<call_job<T>>(std::move(fn));
        auto future = job->promise.get_future();
        std::unique_ptr<write_job> base = std::move(job);
        if (!enqueue(base)) return core::fail(core::error::unavailable_error("sqlite: store stopping or queue full"));
        return future.get();
    }

    // Runs `fn` with a pooled read connection (each statement its own snapshot) and returns what
    // it returns; sqlite failures become errors.
    template <class F>
    auto with_reader(F&& fn) -> decltype(fn(std::declval<read_connection&>())) {
        std::unique_ptr<read_connection> c;
        try {
            c = acquire_reader();
            auto out = fn(*c);
            release_reader(std::move(c));
            return out;
        } catch (const sqlite_failure& f) {
            if (c) {
                if (!sqlite3_get_autocommit(c->handle.db)) sqlite3_exec(c->handle.db, "ROLLBACK", nullptr, nullptr, nullptr);
                release_reader(std::move(c));
            }
            return core::fail(to_error(f));
        }
    }

    // Returns false when the store is stopping or the queue is full.
    bool enqueue(std::unique_ptr<write_job>& job) {
        {
            const std::lock_guard lock(queue_mutex);
            if (stopping || queue.size() >= options.max_queue) return false;
            queue.push_back(std::move(job));
        }
        queue_cv.notify_one();
        return true;
    }

    void run_writer() {
        std::vector<std::unique_ptr<write_job>> batch;
        batch.reserve(options.max_batch);
        for (;;) {
            {
                std::unique_lock lock(queue_mutex);
                queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
                if (queue.empty()) return;  // stopping, and everything queued is committed
                while (!queue.empty() && batch.size() < options.max_batch) {
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            commit_group(batch);
            batch.clear();
        }
    }

    void commit_group(std::vector<std::unique_ptr<write_job>>& batch) {
        write_connection& c = *writer;
        std::optional<core::error> group_error;
        try {
            statement::run(c.begin).exec();
        } catch (const sqlite_failure& f) {
            group_error = to_error(f);
        }
        if (!group_error) {
            for (auto& job : batch) {
                try {
                    statement::run(c.savepoint).exec();
                    try {
                        job->apply(c);
                    } catch (const sqlite_failure& f) {
                        statement::run(c.rollback_to).exec();
                        job->failed(to_error(f));
                    }
                    statement::run(c.release).exec();
                } catch (const sqlite_failure& f) {
                    group_error = to_error(f);
                    break;
                }
            }
            if (!group_error) {
                try {
                    statement::run(c.commit).exec();
                } catch (const sqlite_failure& f) {
                    group_error = to_error(f);
                }
            }
            if (group_error && !sqlite3_get_autocommit(c.handle.db)) {
                sqlite3_exec(c.handle.db, "ROLLBACK", nullptr, nullptr, nullptr);
            }
        }
        after_commit(c, group_error.has_value());
        // A completion hands its work to the requester's thread (api::request::resume); one that
        // throws all the same must cost its own request, not the writer thread and every later
        // write with it (an exception leaving this thread would end the process).
        for (auto& job : batch) {
            try {
                job->finish(group_error ? &*group_error : nullptr);
            } catch (...) {  // NOLINT(bugprone-empty-catch): nowhere better to report it from here
            }
        }
    }

    void after_commit(write_connection& c, bool rolled_back) {
        if (c.subscriptions_changed) {
            c.subscriptions_changed = false;
            try {
                c.load_subscriptions();
            } catch (const sqlite_failure&) {
                c.subscriptions_changed = true;  // the next group tries again
            }
        }
        if (std::exchange(c.deliveries_added, false) && !rolled_back) {
            const std::lock_guard lock(wake_mutex);
            if (wake_dispatcher) wake_dispatcher();
        }
    }

    std::unique_ptr<read_connection> acquire_reader() {
        {
            const std::lock_guard lock(pool_mutex);
            if (!idle_readers.empty()) {
                auto c = std::move(idle_readers.back());
                idle_readers.pop_back();
                return c;
            }
        }
        return std::make_unique<read_connection>(readers);
    }

    void release_reader(std::unique_ptr<read_connection> c) {
        const std::lock_guard lock(pool_mutex);
        idle_readers.push_back(std::move(c));
    }

    // Runs `fn(connection)` in one read transaction (one snapshot) on a pooled connection.
    template <class F>
    std::optional<core::error> read(F&& fn) {
        std::unique_ptr<read_connection> c;
        try {
            c = acquire_reader();
        } catch (const sqlite_failure& f) {
            return to_error(f);
        }
        std::optional<core::error> failure;
        try {
            statement::run(c->begin).exec();
            try {
                fn(*c);
                statement::run(c->commit).exec();
            } catch (...) {
                sqlite3_exec(c->handle.db, "ROLLBACK", nullptr, nullptr, nullptr);
                throw;
            }
        } catch (const sqlite_failure& f) {
            failure = to_error(f);
        }
        release_reader(std::move(c));
        return failure;
    }
};

core::result<std::unique_ptr<sqlite_store>> sqlite_store::open(const sqlite_options& options) {
    auto p = std::make_unique<impl>(options);
    try {
        if (options.read_only) {
            p->stopping = true;  // no writer: every write is refused as unavailable
            int version = 0;
            try {
                version = schema_version_of(p->readers.name, p->readers.flags);
            } catch (const sqlite_failure& f) {
                const int primary = f.code & 0xFF;
                std::error_code ec;
                const bool no_shm = !std::filesystem::exists(options.path + "-shm", ec);
                if (!(no_shm && (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN))) throw;
                p->readers = immutable_snapshot(options.path);
                version = schema_version_of(p->readers.name, p->readers.flags);
            }
            if (version != schema_version) {
                return core::fail(core::error::unavailable_error(
                    "cannot read " + options.path + " read-only: its schema is version " + std::to_string(version) +
                    ", this binary reads version " + std::to_string(schema_version) +
                    (version < schema_version ? " (open it once read-write, e.g. with serve, to migrate it)" : "")));
            }
        } else {
            p->writer = std::make_unique<write_connection>(options.path);
        }
        // Fail at start-up, not on the first lookup, when readers cannot open the file.
        p->release_reader(std::make_unique<read_connection>(p->readers));
    } catch (const sqlite_failure& f) {
        auto e = to_error(f);
        e.message = "cannot open the database " + options.path + ": " + f.what();
        return core::fail(std::move(e));
    }
    if (options.read_only) return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
    impl* raw = p.get();
    p->writer_thread = std::thread([raw] { raw->run_writer(); });
    return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

sqlite_store::~sqlite_store() { stop(); }

void sqlite_store::stop() {
    {
        const std::lock_guard lock(impl_->queue_mutex);
        if (impl_->stopping && !impl_->writer_thread.joinable()) return;
        impl_->stopping = true;
    }
    impl_->queue_cv.notify_all();
    if (impl_->writer_thread.joinable()) impl_->writer_thread.join();
    const std::lock_guard lock(impl_->pool_mutex);
    impl_->idle_readers.clear();
    if (impl_->writer) {
        // A clean close checkpoints the WAL into the main file.
        impl_->writer.reset();
    }
}

core::result<std::optional<core::package>> sqlite_store::find(std::string_view tracking_id,
                                                              core::millis now,
                                                              std::size_t max_events) {
    std::unique_ptr<read_connection> c;
    try {
        c = impl_->acquire_reader();
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
    std::optional<core::package> found;
    try {
        // One read transaction, so the state and the history come from the same snapshot.
        statement::run(c->begin).exec();
        try {
            {
                statement::run r(c->state);
                r.bind(1, tracking_id);
                if (r.step()) {
                    auto s = read_state(r, tracking_id);
                    if (s.expires_at >= now) found = core::package{std::move(s), {}};
                }
            }
            if (found) {
                statement::run r(c->events);
                r.bind(1, tracking_id).bind(2, static_cast<std::int64_t>(max_events));
                found->events.reserve(std::min<std::size_t>(found->state.event_count, max_events));
                while (r.step()) found->events.push_back(read_event(r, tracking_id));
            }
            statement::run(c->commit).exec();
        } catch (...) {
            sqlite3_exec(c->handle.db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    } catch (const sqlite_failure& f) {
        impl_->release_reader(std::move(c));
        return core::fail(to_error(f));
    }
    impl_->release_reader(std::move(c));
    return found;
}

void sqlite_store::append(core::submission sub, const core::lifecycle_policy& policy,
                          core::append_callback done) {
    std::unique_ptr<write_job> job = std::make_unique<append_job>(std::move(sub), policy, std::move(done));
    if (!impl_->enqueue(job)) {
        // The job was not queued, so we still own it and its callback.
        auto& j = static_cast<append_job&>(*job);
        auto e = core::error::unavailable_error("sqlite: write queue full or store stopping");
        e.message = "the service is overloaded; retry shortly";
        j.done(core::fail(std::move(e)));
    }
}

void sqlite_store::append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                                core::batch_callback done) {
    const std::size_t n = subs.size();
    std::unique_ptr<write_job> job = std::make_unique<batch_job>(std::move(subs), policy, std::move(done));
    if (!impl_->enqueue(job)) {
        auto& j = static_cast<batch_job&>(*job);
        auto e = core::error::unavailable_error("sqlite: write queue full or store stopping");
        e.message = "the service is overloaded; retry shortly";
        j.done(std::vector<core::result<core::append_outcome>>(n, core::result<core::append_outcome>(core::fail(e))));
    }
}

core::result<core::package_page> sqlite_store::list_packages(const core::package_query& q) {
    // One upper bound holds both the cursor and the staleness: "updated_at < stale_before" is
    // "(updated_at, tracking_id) < (stale_before, '')".
    core::package_cursor bound{std::numeric_limits<core::millis>::max(), {}};
    if (q.after) bound = *q.after;
    if (q.stale_before && *q.stale_before <= bound.updated_at) bound = {*q.stale_before, {}};
    const auto fetch = static_cast<std::int64_t>(q.limit + 1);
    std::vector<core::package_state> rows;
    std::vector<core::status> statuses = q.statuses;
    if (statuses.empty()) statuses.assign(core::all_statuses.begin(), core::all_statuses.end());
    auto failure = impl_->read([&](read_connection& c) {
        // One index range per status, merged here: each is already in the listing's order.
        for (const core::status st : statuses) {
            statement::run r(c.list_by_status);
            r.bind(1, core::to_string(st)).bind(2, bound.updated_at).bind(3, bound.tracking_id).bind(4, q.now).bind(5, fetch);
            while (r.step()) rows.push_back(read_state(r, r.text(12)));
        }
    });
    if (failure) return core::fail(std::move(*failure));
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return a.updated_at != b.updated_at ? a.updated_at > b.updated_at : a.tracking_id > b.tracking_id;
    });
    core::package_page page;
    if (rows.size() > q.limit) {
        rows.resize(q.limit);
        page.next = core::package_cursor{rows.back().updated_at, rows.back().tracking_id};
    }
    page.packages = std::move(rows);
    return page;
}

core::result<std::vector<std::string>> sqlite_store::listing_query_plans() {
    std::vector<std::string> lines;
    auto failure = impl_->read([&](read_connection& c) {
        statement plan(c.handle.db, (std::string("EXPLAIN QUERY PLAN ") + list_by_status_sql).c_str());
        statement::run r(plan);
        while (r.step()) lines.push_back(r.text(3));
    });
    if (failure) return core::fail(std::move(*failure));
    return lines;
}

core::result<core::export_page> sqlite_store::export_packages(std::string_view cursor, std::size_t limit,
                                                              core::millis now) {
    core::export_page page;
    auto failure = impl_->read([&](read_connection& c) {
        {
            statement::run r(c.export_ids);
            r.bind(1, cursor).bind(2, now).bind(3, static_cast<std::int64_t>(limit + 1));
            while (r.step()) page.packages.push_back(core::package{read_state(r, r.text(12)), {}});
        }
        if (page.packages.size() > limit) {
            page.packages.resize(limit);
            page.next = page.packages.back().state.tracking_id;
        }
        for (auto& p : page.packages) {
            statement::run r(c.export_events);
            r.bind(1, p.state.tracking_id);
            p.events.reserve(p.state.event_count);
            while (r.step()) p.events.push_back(read_event(r, p.state.tracking_id));
        }
    });
    if (failure) return core::fail(std::move(*failure));
    return page;
}

core::result<std::size_t> sqlite_store::purge_expired(core::millis now) {
    std::size_t total = 0;
    for (;;) {
        auto job = std::make_unique<purge_job>(now, impl_->options.purge_chunk);
        auto future = job->promise.get_future();
        std::unique_ptr<write_job> base = std::move(job);
        if (!impl_->enqueue(base)) {
            return core::fail(core::error::unavailable_error("sqlite: store stopping or queue full"));
        }
        auto removed = future.get();
        if (!removed) return removed;
        total += *removed;
        if (*removed < impl_->options.purge_chunk) return total;
    }
}

core::result<void> sqlite_store::ping() {
    try {
        auto c = impl_->acquire_reader();
        {
            statement::run r(c->ping);
            r.step();
        }
        impl_->release_reader(std::move(c));
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
    return {};
}

// ---- Webhook subscriptions and the outbox ----

namespace {

std::optional<core::subscription> subscription_by_id(statement_cache& prepared, std::string_view id) {
    statement::run r(prepared.get(select_subscription_by_id));
    r.bind(1, id);
    if (!r.step()) return std::nullopt;
    return read_subscription(r);
}

}  // namespace

core::result<void> sqlite_store::create_subscription(const core::subscription& sub) {
    return impl_->write<void>([sub](write_connection& c) -> core::result<void> {
        if (subscription_by_id(c.prepared, sub.id)) {
            return core::fail(core::error::make(core::errc::conflict, "a subscription with id " + sub.id + " exists"));
        }
        statement& st = c.prepared.get("INSERT INTO subscriptions (id, url, statuses, tracking_id, secret, created_at, enabled, "
                     "disabled_at, disabled_reason, consecutive_failures, paused_until, last_success_at) VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        // Bound values are not copied (SQLITE_STATIC): they must outlive exec().
        const std::string statuses = join_statuses(sub.statuses);
        statement::run r(st);
        r.bind(1, sub.id).bind(2, sub.url).bind(3, statuses).bind(4, sub.tracking_id);
        r.bind(5, sub.secret).bind(6, sub.created_at).bind(7, std::int64_t{sub.enabled ? 1 : 0});
        if (sub.disabled_at) r.bind(8, *sub.disabled_at); else r.bind_null(8);
        r.bind(9, sub.disabled_reason).bind(10, std::int64_t{sub.consecutive_failures}).bind(11, sub.paused_until);
        if (sub.last_success_at) r.bind(12, *sub.last_success_at); else r.bind_null(12);
        r.exec();
        c.subscriptions_changed = true;
        return {};
    });
}

core::result<std::vector<core::subscription>> sqlite_store::list_subscriptions() {
    return impl_->with_reader([](read_connection& c) -> core::result<std::vector<core::subscription>> {
        statement& st = c.prepared.get(select_subscriptions_in_order);
        std::vector<core::subscription> out;
        statement::run r(st);
        while (r.step()) out.push_back(read_subscription(r));
        return out;
    });
}

core::result<std::optional<core::subscription>> sqlite_store::find_subscription(std::string_view id) {
    return impl_->with_reader([id](read_connection& c) -> core::result<std::optional<core::subscription>> {
        return subscription_by_id(c.prepared, id);
    });
}

core::result<void> sqlite_store::delete_subscription(std::string_view id_view) {
    return impl_->write<void>([id = std::string(id_view)](write_connection& c) -> core::result<void> {
        if (!subscription_by_id(c.prepared, id)) return core::fail(core::subscription_not_found(id));
        {
            statement& st = c.prepared.get("DELETE FROM outbox WHERE subscription_id = ?1");
            statement::run(st).bind(1, id).exec();
        }
        statement& st = c.prepared.get("DELETE FROM subscriptions WHERE id = ?1");
        statement::run(st).bind(1, id).exec();
        c.subscriptions_changed = true;
        return {};
    });
}

core::result<core::subscription> sqlite_store::set_enabled(std::string_view id_view, bool enabled, core::millis now,
                                                           std::string_view reason_view) {
    return impl_->write<core::subscription>(
        [id = std::string(id_view), enabled, now,
         reason = std::string(reason_view)](write_connection& c) -> core::result<core::subscription> {
            auto sub = subscription_by_id(c.prepared, id);
            if (!sub) return core::fail(core::subscription_not_found(id));
            if (sub->enabled == enabled) return std::move(*sub);
            statement& st = c.prepared.get("UPDATE subscriptions SET enabled = ?2, disabled_at = ?3, disabled_reason = ?4, "
                         "consecutive_failures = 0, paused_until = 0 WHERE id = ?1");
            const std::string stored_reason = enabled ? std::string() : reason;
            statement::run r(st);
            r.bind(1, id).bind(2, std::int64_t{enabled ? 1 : 0});
            if (enabled) r.bind_null(3); else r.bind(3, now);
            r.bind(4, stored_reason).exec();
            c.subscriptions_changed = true;
            return std::move(*subscription_by_id(c.prepared, id));
        });
}

core::result<std::vector<core::delivery>> sqlite_store::due_deliveries(core::millis now, std::size_t limit,
                                                                      const std::vector<std::string>& in_flight) {
    return impl_->with_reader([&](read_connection& c) -> core::result<std::vector<core::delivery>> {
        std::vector<std::string> ready;
        {
            statement& st = c.prepared.get("SELECT id FROM subscriptions WHERE enabled = 1 AND paused_until <= ?1 ORDER BY id");
            statement::run r(st);
            r.bind(1, now);
            while (r.step()) ready.push_back(r.text(0));
        }
        statement& st = c.prepared.get(select_due_deliveries);
        std::vector<core::delivery> out;
        for (const auto& sub : ready) {
            statement::run r(st);
            r.bind(1, sub).bind(2, now).bind(3, static_cast<std::int64_t>(limit + in_flight.size()));
            while (r.step() && out.size() < limit) {
                auto d = read_delivery(r);
                if (std::find(in_flight.begin(), in_flight.end(), d.id) == in_flight.end()) out.push_back(std::move(d));
            }
            if (out.size() >= limit) break;
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return std::tie(a.next_attempt_at, a.id) < std::tie(b.next_attempt_at, b.id);
        });
        return out;
    });
}

core::result<core::attempt_effect> sqlite_store::record_attempt(const core::delivery& d, const core::attempt_report& report,
                                                                const core::retry_policy& policy, double jitter01) {
    return impl_->write<core::attempt_effect>([d, report, policy, jitter01](
                                                  write_connection& c) -> core::result<core::attempt_effect> {
        auto sub = subscription_by_id(c.prepared, d.subscription_id);
        if (!sub) return core::fail(core::subscription_not_found(d.subscription_id));
        const core::attempt_effect e = core::apply_attempt(*sub, d, report, policy, jitter01);
        {
            statement& st = c.prepared.get("UPDATE outbox SET state = ?2, attempts = attempts + 1, next_attempt_at = ?3, "
                         "last_attempt_at = ?4, last_http_status = ?5, last_error = ?6 WHERE id = ?1 AND state = 'pending'");
            statement::run r(st);
            r.bind(1, d.id).bind(2, core::to_string(e.state)).bind(3, e.next_attempt_at).bind(4, report.at);
            if (report.http_status) r.bind(5, std::int64_t{*report.http_status}); else r.bind_null(5);
            r.bind(6, report.error).exec();
        }
        statement& st = c.prepared.get("UPDATE subscriptions SET consecutive_failures = ?2, paused_until = ?3, "
                     "last_success_at = CASE WHEN ?4 THEN ?5 ELSE last_success_at END, "
                     "enabled = CASE WHEN ?6 THEN 0 ELSE enabled END, "
                     "disabled_at = CASE WHEN ?6 AND enabled = 1 THEN ?5 ELSE disabled_at END, "
                     "disabled_reason = CASE WHEN ?6 AND enabled = 1 THEN ?7 ELSE disabled_reason END "
                     "WHERE id = ?1");
        const bool delivered = e.state == core::delivery_state::delivered;
        statement::run(st)
            .bind(1, d.subscription_id)
            .bind(2, std::int64_t{e.consecutive_failures})
            .bind(3, e.paused_until)
            .bind(4, std::int64_t{delivered ? 1 : 0})
            .bind(5, report.at)
            .bind(6, std::int64_t{e.disable ? 1 : 0})
            .bind(7, e.disabled_reason)
            .exec();
        if (e.disable) c.subscriptions_changed = true;
        return e;
    });
}

core::result<core::delivery_page> sqlite_store::deliveries_of(std::string_view subscription_id, std::size_t limit,
                                                              std::optional<std::string_view> cursor) {
    if (cursor && !core::is_delivery_cursor(*cursor)) return core::fail(core::bad_delivery_cursor());
    return impl_->with_reader([&](read_connection& c) -> core::result<core::delivery_page> {
        if (!subscription_by_id(c.prepared, subscription_id)) return core::fail(core::subscription_not_found(subscription_id));
        statement& st = c.prepared.get(select_delivery_page);
        core::delivery_page page;
        statement::run r(st);
        // "~" sorts after every ULID character: no cursor starts at the newest.
        r.bind(1, subscription_id).bind(2, cursor ? *cursor : std::string_view("~"));
        r.bind(3, static_cast<std::int64_t>(limit + 1));
        while (r.step()) page.items.push_back(read_delivery(r));
        if (page.items.size() > limit) {
            page.items.pop_back();
            page.next_cursor = page.items.back().id;
        }
        return page;
    });
}

core::result<core::outbox_counts> sqlite_store::counts() {
    return impl_->with_reader([](read_connection& c) -> core::result<core::outbox_counts> {
        core::outbox_counts out;
        statement& pending = c.prepared.get("SELECT count(*) FROM outbox WHERE state = 'pending'");
        if (statement::run r(pending); r.step()) out.pending = static_cast<std::uint64_t>(r.int64(0));
        statement& subs = c.prepared.get("SELECT coalesce(sum(enabled), 0), count(*) FROM subscriptions");
        if (statement::run r(subs); r.step()) {
            out.enabled_subscriptions = static_cast<std::uint64_t>(r.int64(0));
            out.disabled_subscriptions = static_cast<std::uint64_t>(r.int64(1)) - out.enabled_subscriptions;
        }
        return out;
    });
}

core::result<std::size_t> sqlite_store::purge_deliveries(core::millis before) {
    std::size_t total = 0;
    const std::int64_t chunk = static_cast<std::int64_t>(impl_->options.purge_chunk);
    for (;;) {
        auto removed = impl_->write<std::size_t>([before, chunk](write_connection& c) -> core::result<std::size_t> {
            statement& st = c.prepared.get("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state <> 'pending' AND "
                         "last_attempt_at < ?1 LIMIT ?2)");
            statement::run(st).bind(1, before).bind(2, chunk).exec();
            return static_cast<std::size_t>(sqlite3_changes(c.handle.db));
        });
        if (!removed) return removed;
        total += *removed;
        if (static_cast<std::int64_t>(*removed) < chunk) return total;
    }
}

core::result<std::optional<core::millis>> sqlite_store::next_due() {
    return impl_->with_reader([](read_connection& c) -> core::result<std::optional<core::millis>> {
        statement& st = c.prepared.get("SELECT min(max(s.paused_until, (SELECT min(o.next_attempt_at) FROM outbox o WHERE "
                     "o.subscription_id = s.id AND o.state = 'pending'))) FROM subscriptions s WHERE s.enabled = 1 "
                     "AND EXISTS (SELECT 1 FROM outbox o WHERE o.subscription_id = s.id AND o.state = 'pending')");
        statement::run r(st);
        if (!r.step()) return std::optional<core::millis>();
        return r.opt_int64(0);
    });
}

void sqlite_store::on_new_deliveries(std::function<void()> wake) {
    const std::lock_guard lock(impl_->wake_mutex);
    impl_->wake_dispatcher = std::move(wake);
}

// ---- API keys ----

struct sqlite_key_store::impl {
    std::mutex mutex;
    db_handle handle;
    statement insert, by_id, all, revoke;

    explicit impl(const std::string& path) : handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
        sqlite3_busy_timeout(handle.db, 5000);
        handle.exec("PRAGMA journal_mode = WAL");
        handle.exec("PRAGMA synchronous = FULL");
        migrate_schema(handle);
        insert = statement(handle.db,
                           "INSERT INTO api_keys (id, name, role, key_hash, created_at, revoked_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, NULL)");
        by_id = statement(handle.db,
                          "SELECT id, name, role, key_hash, created_at, revoked_at FROM api_keys WHERE id = ?1");
        all = statement(handle.db,
                        "SELECT id, name, role, key_hash, created_at, revoked_at FROM api_keys "
                        "ORDER BY created_at, id");
        revoke = statement(handle.db,
                           "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1");
    }

    static core::api_key_record read(const statement::run& r) {
        core::api_key_record k;
        k.id = r.text(0);
        k.name = r.text(1);
        k.key_role = core::parse_role(r.text(2)).value_or(core::role::reader);
        k.hash = r.text(3);
        k.created_at = r.int64(4);
        if (const auto revoked = r.opt_text(5)) k.revoked_at = r.int64(5);
        return k;
    }

    std::optional<core::api_key_record> find(std::string_view id) {
        statement::run r(by_id);
        r.bind(1, id);
        if (!r.step()) return std::nullopt;
        return read(r);
    }
};

core::result<std::unique_ptr<sqlite_key_store>> sqlite_key_store::open(const std::string& path) {
    try {
        return std::unique_ptr<sqlite_key_store>(new sqlite_key_store(std::make_unique<impl>(path)));
    } catch (const sqlite_failure& f) {
        auto e = to_error(f);
        e.message = "cannot open the database " + path + ": " + f.what();
        return core::fail(std::move(e));
    }
}

sqlite_key_store::sqlite_key_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
sqlite_key_store::~sqlite_key_store() = default;

core::result<void> sqlite_key_store::create_key(const core::api_key_record& k) {
    const std::lock_guard lock(impl_->mutex);
    try {
        statement::run(impl_->insert)
            .bind(1, k.id)
            .bind(2, k.name)
            .bind(3, core::to_string(k.key_role))
            .bind(4, k.hash)
            .bind(5, k.created_at)
            .exec();
    } catch (const sqlite_failure& f) {
        if (f.code == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return core::fail(core::error::make(core::errc::conflict, "a key with id " + k.id + " exists"));
        }
        return core::fail(to_error(f));
    }
    return {};
}

core::result<std::optional<core::api_key_record>> sqlite_key_store::find_key(std::string_view id) {
    const std::lock_guard lock(impl_->mutex);
    try {
        return impl_->find(id);
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
}

core::result<std::vector<core::api_key_record>> sqlite_key_store::list_keys() {
    const std::lock_guard lock(impl_->mutex);
    try {
        std::vector<core::api_key_record> out;
        statement::run r(impl_->all);
        while (r.step()) out.push_back(impl::read(r));
        return out;
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
}

core::result<core::api_key_record> sqlite_key_store::revoke_key(std::string_view id, core::millis now) {
    const std::lock_guard lock(impl_->mutex);
    try {
        statement::run(impl_->revoke).bind(1, id).bind(2, now).exec();
        auto k = impl_->find(id);
        if (!k) return core::fail(core::error::make(core::errc::not_found, "no key with id " + std::string(id)));
        return std::move(*k);
    } catch (const sqlite_failure& f) {
        return core::fail(to_error(f));
    }
}

}  // namespace dinex::store

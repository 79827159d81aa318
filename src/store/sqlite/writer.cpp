#include "store/sqlite/writer.hpp"

#include <utility>

#include "store/sqlite/rows.hpp"
#include "store/sqlite/schema.hpp"

namespace dinex::store::sqlite_detail {

write_connection::write_connection(const std::string& path, core::id_generator& ids)
    : handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE), delivery_ids(ids) {
    sqlite3_busy_timeout(handle.db, 5000);
    handle.exec("PRAGMA journal_mode = WAL");
    // FULL: the WAL is synced at every commit, so an acknowledged event survives power loss.
    handle.exec("PRAGMA synchronous = FULL");
    handle.exec("PRAGMA temp_store = MEMORY");
    // The writer touches the same hot pages (recent packages, index tails) batch after batch.
    handle.exec("PRAGMA cache_size = -65536");
    // Checkpoint every ~16 MiB of WAL instead of 4 MiB: fewer, larger copies into the database.
    handle.exec("PRAGMA wal_autocheckpoint = 4000");
    migrate_schema(handle);
    begin = statement(handle.db, "BEGIN IMMEDIATE");
    commit = statement(handle.db, "COMMIT");
    savepoint = statement(handle.db, "SAVEPOINT job");
    release = statement(handle.db, "RELEASE job");
    rollback_to = statement(handle.db, "ROLLBACK TO job");
    state = statement(handle.db, select_state_sql);
    event_by_id = statement(handle.db, select_event_by_id_sql);
    insert_event =
        statement(handle.db,
                  "INSERT INTO events (tracking_id, timestamp, event_id, status, location, received_at, "
                  "description, notes, latitude, longitude, estimated_delivery, seq) VALUES (?1, ?2, ?3, ?4, "
                  "?5, ?6, ?7, "
                  "?8, ?9, ?10, ?11, ?12)");
    upsert_state =
        statement(handle.db,
                  "INSERT INTO packages (tracking_id, status, location, notes, latitude, longitude, "
                  "timestamp, event_id, created_at, updated_at, expires_at, event_count, estimated_delivery) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (tracking_id) "
                  "DO UPDATE SET "
                  "status = excluded.status, location = excluded.location, notes = excluded.notes, "
                  "latitude = excluded.latitude, longitude = excluded.longitude, timestamp = "
                  "excluded.timestamp, event_id = excluded.event_id, updated_at = excluded.updated_at, "
                  "expires_at = excluded.expires_at, event_count = excluded.event_count, "
                  "estimated_delivery = excluded.estimated_delivery");
    delete_events = statement(handle.db, "DELETE FROM events WHERE tracking_id = ?1");
    delete_package = statement(handle.db, "DELETE FROM packages WHERE tracking_id = ?1");
    expired_ids = statement(handle.db, "SELECT tracking_id FROM packages WHERE expires_at < ?1 LIMIT ?2");
    prepared = statement_cache(handle.db);
    insert_delivery = statement(
        handle.db,
        "INSERT INTO outbox (id, subscription_id, tracking_id, status, previous_status, location, "
        "timestamp, event_id, state, attempts, created_at, next_attempt_at, last_error) VALUES (?1, ?2, "
        "?3, ?4, ?5, ?6, ?7, ?8, 'pending', 0, ?9, ?9, '')");
    load_subscriptions();
}

void write_connection::load_subscriptions() {
    std::vector<core::subscription> loaded;
    statement::run r(prepared.get(select_subscriptions()));
    while (r.step()) loaded.push_back(read_subscription(r));
    subscriptions = std::move(loaded);
}

void write_connection::add_deliveries(const core::notification& n, core::millis now) {
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

void write_connection::remove_package(std::string_view tracking_id) {
    statement::run(delete_events).bind(1, tracking_id).exec();
    statement::run(delete_package).bind(1, tracking_id).exec();
}

namespace {

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

}  // namespace

void append_job::apply(write_connection& c) { outcome = apply_submission(c, sub, policy); }

void append_job::finish(const core::error* commit_error) {
    if (commit_error && outcome) outcome = core::fail(*commit_error);
    done(std::move(outcome));
}

void batch_job::apply(write_connection& c) {
    outcomes.clear();
    outcomes.reserve(subs.size());
    for (const auto& sub : subs) outcomes.push_back(apply_submission(c, sub, policy));
}

void batch_job::failed(const core::error& e) {
    outcomes.assign(subs.size(), core::result<core::append_outcome>(core::fail(e)));
}

void batch_job::finish(const core::error* commit_error) {
    if (commit_error) {
        for (auto& o : outcomes) {
            if (o) o = core::fail(*commit_error);
        }
    }
    outcomes.resize(subs.size(), core::result<core::append_outcome>(core::fail(
                                     core::error::internal_error("sqlite: batch item not applied"))));
    done(std::move(outcomes));
}

void purge_job::apply(write_connection& c) {
    std::vector<std::string> ids;
    {
        statement::run r(c.expired_ids);
        r.bind(1, now).bind(2, static_cast<std::int64_t>(chunk));
        while (r.step()) ids.push_back(r.text(0));
    }
    for (const auto& id : ids) c.remove_package(id);
    removed = ids.size();
}

void purge_job::finish(const core::error* commit_error) {
    if (commit_error) error = *commit_error;
    if (error) {
        promise.set_value(core::fail(*error));
    } else {
        promise.set_value(removed);
    }
}

group_writer::group_writer(std::unique_ptr<write_connection> connection, std::size_t max_batch,
                           std::size_t max_queue)
    : connection_(std::move(connection)),
      max_batch_(max_batch),
      max_queue_(max_queue),
      thread_([this] { run(); }) {}

bool group_writer::enqueue(std::unique_ptr<write_job>& job) {
    {
        const std::lock_guard lock(queue_mutex_);
        if (stopping_ || queue_.size() >= max_queue_) return false;
        queue_.push_back(std::move(job));
    }
    queue_cv_.notify_one();
    return true;
}

void group_writer::on_new_deliveries(std::function<void()> wake) {
    const std::lock_guard lock(wake_mutex_);
    wake_dispatcher_ = std::move(wake);
}

void group_writer::stop() {
    {
        const std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    queue_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    connection_.reset();
}

void group_writer::run() {
    std::vector<std::unique_ptr<write_job>> batch;
    batch.reserve(max_batch_);
    for (;;) {
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything queued is committed
            while (!queue_.empty() && batch.size() < max_batch_) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        commit_group(batch);
        batch.clear();
    }
}

void group_writer::commit_group(std::vector<std::unique_ptr<write_job>>& batch) {
    write_connection& c = *connection_;
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
        if (group_error) c.handle.rollback_if_open();
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

void group_writer::after_commit(write_connection& c, bool rolled_back) {
    if (c.subscriptions_changed) {
        c.subscriptions_changed = false;
        try {
            c.load_subscriptions();
        } catch (const sqlite_failure&) {
            c.subscriptions_changed = true;  // the next group tries again
        }
    }
    if (std::exchange(c.deliveries_added, false) && !rolled_back) {
        const std::lock_guard lock(wake_mutex_);
        if (wake_dispatcher_) wake_dispatcher_();
    }
}

}  // namespace dinex::store::sqlite_detail

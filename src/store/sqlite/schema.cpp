#include "store/sqlite/schema.hpp"

#include <iterator>

#include "store/sqlite/sqlite_store.hpp"

namespace dinex::store::sqlite_detail {
namespace {

// Versioned migrations; index i moves the schema from version i to i + 1.
constexpr const char* migrations[] = {
    R"sql(
CREATE TABLE packages (
    tracking_id  TEXT    NOT NULL PRIMARY KEY,
    status       TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    notes        TEXT,
    latitude     REAL,
    longitude    REAL,
    timestamp    INTEGER NOT NULL,
    event_id     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    event_count  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX packages_by_expiry ON packages (expires_at);
CREATE TABLE events (
    tracking_id  TEXT    NOT NULL,
    timestamp    INTEGER NOT NULL,
    event_id     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    description  TEXT,
    notes        TEXT,
    latitude     REAL,
    longitude    REAL,
    PRIMARY KEY (tracking_id, timestamp, event_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_event_id ON events (tracking_id, event_id);
)sql",
    // 2: API keys (docs/SECURITY.md). Only the SHA-256 of a key is stored, never the key.
    R"sql(
CREATE TABLE api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    key_hash     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) WITHOUT ROWID;
)sql",
    // 3: webhook subscriptions and their outbox (docs/NOTIFICATIONS.md). Outbox rows are written
    // in the transaction of the event that made them; delivery ids are ULIDs, so ordering by id is
    // ordering by creation.
    R"sql(
CREATE TABLE subscriptions (
    id                    TEXT    NOT NULL PRIMARY KEY,
    url                   TEXT    NOT NULL,
    statuses              TEXT    NOT NULL,
    tracking_id           TEXT,
    secret                TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    enabled               INTEGER NOT NULL,
    disabled_at           INTEGER,
    disabled_reason       TEXT    NOT NULL,
    consecutive_failures  INTEGER NOT NULL,
    paused_until          INTEGER NOT NULL,
    last_success_at       INTEGER
) WITHOUT ROWID;
CREATE TABLE outbox (
    id                TEXT    NOT NULL PRIMARY KEY,
    subscription_id   TEXT    NOT NULL,
    tracking_id       TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    previous_status   TEXT,
    location          TEXT    NOT NULL,
    timestamp         INTEGER NOT NULL,
    event_id          TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    last_attempt_at   INTEGER,
    last_http_status  INTEGER,
    last_error        TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (subscription_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_history ON outbox (subscription_id, id);
CREATE INDEX outbox_finished ON outbox (last_attempt_at) WHERE state <> 'pending';
)sql",
    // 4: estimated delivery on events and state (issue #9); the operator listing walks
    // packages newest change first per status from an index (the primary key tracking_id ends
    // every index entry, which makes the order total). A listing across statuses merges the ten
    // per-status ranges rather than keep a second index that every accepted event would update.
    R"sql(
ALTER TABLE events ADD COLUMN estimated_delivery INTEGER;
ALTER TABLE packages ADD COLUMN estimated_delivery INTEGER;
CREATE INDEX packages_by_status ON packages (status, updated_at);
)sql",
    // 5: events ordered by arrival within a millisecond (issue #16). `seq` is the event's arrival
    // order in its package (core::event::sequence); the key (tracking_id, timestamp, seq) reads the
    // history newest first straight from the table. Existing events are numbered by when they
    // were received, which is the order they arrived in.
    R"sql(
CREATE TABLE events_v5 (
    tracking_id         TEXT    NOT NULL,
    timestamp           INTEGER NOT NULL,
    seq                 INTEGER NOT NULL,
    event_id            TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    location            TEXT    NOT NULL,
    received_at         INTEGER NOT NULL,
    description         TEXT,
    notes               TEXT,
    latitude            REAL,
    longitude           REAL,
    estimated_delivery  INTEGER,
    PRIMARY KEY (tracking_id, timestamp, seq)
) WITHOUT ROWID;
INSERT INTO events_v5 (tracking_id, timestamp, seq, event_id, status, location, received_at, description,
                       notes, latitude, longitude, estimated_delivery)
SELECT tracking_id, timestamp,
       ROW_NUMBER() OVER (PARTITION BY tracking_id ORDER BY received_at, timestamp, event_id),
       event_id, status, location, received_at, description, notes, latitude, longitude, estimated_delivery
FROM events;
DROP TABLE events;
ALTER TABLE events_v5 RENAME TO events;
CREATE UNIQUE INDEX events_by_event_id ON events (tracking_id, event_id);
)sql",
};
static_assert(std::size(migrations) == sqlite_store::schema_version);

int read_user_version(sqlite3* db) {
    statement v(db, "PRAGMA user_version");
    statement::run r(v);
    return r.step() ? static_cast<int>(r.int64(0)) : 0;
}

}  // namespace

int schema_version_of(const std::string& name, int flags) {
    db_handle handle(name, flags);
    return read_user_version(handle.db);
}

void migrate_schema(db_handle& handle) {
    handle.exec("BEGIN IMMEDIATE");
    try {
        int version = read_user_version(handle.db);
        if (version > sqlite_store::schema_version) {
            throw sqlite_failure(SQLITE_ERROR, "database schema version " + std::to_string(version) +
                                                   " is newer than this binary supports (" +
                                                   std::to_string(sqlite_store::schema_version) + ")");
        }
        for (; version < sqlite_store::schema_version; ++version) {
            handle.exec(migrations[version]);
            handle.exec(("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
        }
        handle.exec("COMMIT");
    } catch (...) {
        handle.rollback_if_open();
        throw;
    }
}

}  // namespace dinex::store::sqlite_detail

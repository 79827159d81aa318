// One suite every core::key_store back-end must pass (memory, sqlite, dynamodb on moto), the
// SQLite upgrade from a version-1 database, and the shared DynamoDB rate limiter on moto.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <future>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "../support/fakes.hpp"
#include "../support/moto.hpp"
#include "../support/sqlite.hpp"
#include "../support/stores.hpp"
#include "auth/api_key.hpp"
#include "auth/gcra_limiter.hpp"
#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_access.hpp"
#include "store/dynamodb/table_schema.hpp"
#include "store/memory/memory_key_store.hpp"
#include "store/sqlite/sqlite_key_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace dinex {
namespace {

using core::role;
using testing::base_time;

using testing::moto;

struct backend {
    std::string name;
    std::function<std::unique_ptr<core::key_store>(const std::filesystem::path& dir)> open;
};
void PrintTo(const backend& b, std::ostream* os) { *os << b.name; }

std::vector<backend> backends() {
    return {
        {"memory", [](const std::filesystem::path&) { return std::make_unique<store::memory_key_store>(); }},
        {"sqlite",
         [](const std::filesystem::path& dir) -> std::unique_ptr<core::key_store> {
             auto s = store::sqlite_key_store::open((dir / "keys.db").string());
             if (!s) throw std::runtime_error(s.error().message);
             return std::move(*s);
         }},
        {"dynamodb",
         [](const std::filesystem::path& dir) -> std::unique_ptr<core::key_store> {
             auto t = moto("keys-" + dir.filename().string());
             return std::make_unique<store::dynamodb_key_store>(t.table, t.client);
         }},
    };
}

std::filesystem::path temp_dir() { return testing::fresh_temp_dir("dinex-keys"); }

class KeyStoreContract : public ::testing::TestWithParam<backend> {
protected:
    void SetUp() override {
        dir_ = temp_dir();
        keys_ = GetParam().open(dir_);
    }
    void TearDown() override {
        keys_.reset();
        std::filesystem::remove_all(dir_);
    }
    std::filesystem::path dir_;
    std::unique_ptr<core::key_store> keys_;
};

TEST_P(KeyStoreContract, CreateFindListRevoke) {
    EXPECT_EQ(keys_->list_keys()->size(), 0U);
    auto a = auth::generate_key("scanner 1", role::writer, base_time).record;
    auto b = auth::generate_key("support", role::reader, base_time + 1).record;
    ASSERT_TRUE(keys_->create_key(a));
    ASSERT_TRUE(keys_->create_key(b));
    EXPECT_EQ(keys_->find_key(a.id).value(), a);
    EXPECT_EQ(keys_->find_key("aaaaaaaaaaaa").value(), std::nullopt);
    EXPECT_EQ(keys_->list_keys().value(), (std::vector{a, b}));

    auto revoked = keys_->revoke_key(a.id, base_time + 5);
    ASSERT_TRUE(revoked);
    EXPECT_EQ(revoked->revoked_at, base_time + 5);
    EXPECT_EQ(keys_->revoke_key(a.id, base_time + 9)->revoked_at, base_time + 5);  // the first time stays
    EXPECT_EQ(keys_->find_key(a.id).value()->revoked_at, base_time + 5);
    EXPECT_EQ(keys_->revoke_key("aaaaaaaaaaaa", base_time).error().code, core::errc::not_found);
    EXPECT_FALSE(keys_->find_key(b.id).value()->revoked_at);
}

TEST_P(KeyStoreContract, DuplicateIdIsAConflict) {
    auto a = auth::generate_key("x", role::admin, base_time).record;
    ASSERT_TRUE(keys_->create_key(a));
    auto copy = a;
    copy.name = "other";
    EXPECT_EQ(keys_->create_key(copy).error().code, core::errc::conflict);
    EXPECT_EQ(keys_->find_key(a.id).value()->name, "x");
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyStoreContract, ::testing::ValuesIn(backends()),
                         [](const auto& p) { return p.param.name; });

TEST(SqliteSchema, UpgradesAVersion1Database) {
    const auto dir = temp_dir();
    const auto path = (dir / "v1.db").string();
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        const char* v1 = R"sql(
CREATE TABLE packages (tracking_id TEXT NOT NULL PRIMARY KEY, status TEXT NOT NULL, location TEXT NOT NULL,
  notes TEXT, latitude REAL, longitude REAL, timestamp INTEGER NOT NULL, event_id TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  event_count INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX packages_by_expiry ON packages (expires_at);
CREATE TABLE events (tracking_id TEXT NOT NULL, timestamp INTEGER NOT NULL, event_id TEXT NOT NULL,
  status TEXT NOT NULL, location TEXT NOT NULL, received_at INTEGER NOT NULL, description TEXT, notes TEXT,
  latitude REAL, longitude REAL, PRIMARY KEY (tracking_id, timestamp, event_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_event_id ON events (tracking_id, event_id);
INSERT INTO packages VALUES ('TRK001','IN_TRANSIT','Lima',NULL,NULL,NULL,1764403200000,'E1',1764403200000,
  1764403200000,1999999999999,1);
INSERT INTO events VALUES ('TRK001',1764403200000,'E1','IN_TRANSIT','Lima',1764403200000,NULL,NULL,NULL,NULL);
PRAGMA user_version = 1;
)sql";
        ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_close(db);
    }
    {
        auto s = testing::open_sqlite({.path = path});
        ASSERT_TRUE(s) << s.error().message;
        const auto found = (*s)->find("TRK001", base_time, 10);
        ASSERT_TRUE(found && *found);
        EXPECT_EQ((*found)->events.size(), 1U);
        auto keys = store::sqlite_key_store::open(path);
        ASSERT_TRUE(keys);
        auto k = auth::generate_key("after upgrade", role::writer, base_time).record;
        EXPECT_TRUE((*keys)->create_key(k));
        EXPECT_EQ((*keys)->find_key(k.id).value(), k);
        // Version 3: the webhook tables exist.
        core::subscription sub;
        sub.id = "01SUBSCRIPTIONAFTERUPGRADE";
        sub.url = "https://example.com/hook";
        EXPECT_TRUE((*s)->create_subscription(sub));
        EXPECT_EQ((*s)->list_subscriptions().value().size(), 1U);
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), store::sqlite_store::schema_version);
    EXPECT_EQ(store::sqlite_store::schema_version, 5);
    sqlite3_finalize(st);
    sqlite3_close(db);
    std::filesystem::remove_all(dir);
}

// Version 5 keys events by arrival order: the upgrade numbers a package's events in the order they
// were received, whatever their ids, so a tie at one millisecond keeps the state the package had.
TEST(SqliteSchema, UpgradeToVersion5NumbersEventsByArrival) {
    const auto dir = temp_dir();
    const auto path = (dir / "v4.db").string();
    {
        auto s = testing::open_sqlite({.path = path});
        ASSERT_TRUE(s) << s.error().message;
    }
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        // Back to the version 4 events table, as a database written before the upgrade has it.
        const char* v4 = R"sql(
DROP TABLE events;
CREATE TABLE events (tracking_id TEXT NOT NULL, timestamp INTEGER NOT NULL, event_id TEXT NOT NULL,
  status TEXT NOT NULL, location TEXT NOT NULL, received_at INTEGER NOT NULL, description TEXT, notes TEXT,
  latitude REAL, longitude REAL, estimated_delivery INTEGER, PRIMARY KEY (tracking_id, timestamp, event_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_event_id ON events (tracking_id, event_id);
INSERT INTO packages (tracking_id, status, location, timestamp, event_id, created_at, updated_at, expires_at, event_count)
  VALUES ('TRK050','DELIVERED','Lima',1764403200000,'zz-first',1764403200000,1764403200002,1999999999999,3);
INSERT INTO events VALUES ('TRK050',1764403200000,'zz-first','DELIVERED','Lima',1764403200001,NULL,NULL,NULL,NULL,NULL);
INSERT INTO events VALUES ('TRK050',1764403200000,'aa-second','IN_TRANSIT','Lima',1764403200002,NULL,NULL,NULL,NULL,NULL);
INSERT INTO events VALUES ('TRK050',1764403100000,'mm-oldest','PICKED_UP','Lima',1764403200000,NULL,NULL,NULL,NULL,NULL);
PRAGMA user_version = 4;
)sql";
        ASSERT_EQ(sqlite3_exec(db, v4, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_close(db);
    }
    auto s = testing::open_sqlite({.path = path});
    ASSERT_TRUE(s) << s.error().message;
    const auto found = (*s)->find("TRK050", base_time, 10);
    ASSERT_TRUE(found && *found);
    const auto& events = (*found)->events;
    ASSERT_EQ(events.size(), 3U);
    // Same timestamp: the later arrival ("aa-second", sequence 3) first; then by timestamp.
    EXPECT_EQ(events[0].event_id, "aa-second");
    EXPECT_EQ(events[0].sequence, 3U);
    EXPECT_EQ(events[1].event_id, "zz-first");
    EXPECT_EQ(events[1].sequence, 2U);
    EXPECT_EQ(events[2].event_id, "mm-oldest");
    EXPECT_EQ(events[2].sequence, 1U);
    // The next event continues the numbering, and the replay check still finds ids.
    core::submission next;
    next.incoming = events[0];
    next.incoming.event_id = "aa-second";
    next.event_id_given = true;
    std::promise<core::result<core::append_outcome>> p;
    (*s)->append(next, {}, [&p](core::result<core::append_outcome> r) { p.set_value(std::move(r)); });
    const auto r = p.get_future().get();
    ASSERT_TRUE(r) << r.error().internal_message;
    EXPECT_EQ(r->kind, core::outcome_kind::replay);
    s->reset();
    std::filesystem::remove_all(dir);
}

TEST(DynamodbRateLimiter, FixedWindowSharedByInstances) {
    std::random_device rd;
    auto t = moto("ratelimit-" + std::to_string(rd()));
    // Two limiters on one table: two Lambda instances.
    store::dynamodb_rate_limiter one(t.table, t.client), two(t.table, t.client);
    const core::rate_limit lim{2, 4};              // windows of 2 s, 4 requests each
    const core::millis start = 1'764'403'200'000;  // a window boundary
    for (std::uint32_t i = 1; i <= 4; ++i) {
        auto d = (i % 2 ? one : two).acquire("ip:198.51.100.1", lim, start + 100);
        ASSERT_TRUE(d) << d.error().internal_message;
        EXPECT_TRUE(d->allowed);
        EXPECT_EQ(d->remaining, 4 - i);
        EXPECT_EQ(d->reset_after, 1900);
    }
    auto d = one.acquire("ip:198.51.100.1", lim, start + 500);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->allowed);
    EXPECT_EQ(d->retry_after, 1500);
    EXPECT_TRUE(two.acquire("ip:198.51.100.2", lim, start + 500)->allowed);   // another client
    EXPECT_TRUE(two.acquire("ip:198.51.100.1", lim, start + 2000)->allowed);  // the next window
}

TEST(DynamodbRateLimiter, LeasesCutTheCounterWritesAndNeverAdmitMoreThanTheLimit) {
    std::random_device rd;
    auto t = moto("ratelimit-lease-" + std::to_string(rd()));
    store::dynamodb_rate_limiter one(t.table, t.client), two(t.table, t.client);
    const core::rate_limit lim{50, 100};  // windows of 2 s, 100 requests; leases of at most 10
    const core::millis start = 1'764'403'200'000;
    const std::string client = "key:LEASETEST0001";

    // First window on this instance: one token per lease, as exact as a write per request.
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(one.acquire(client, lim, start + 10 + i)->allowed);
    EXPECT_EQ(one.counter_writes(), 30U);
    // The next window: what the last one used, in leases of 10: 3 writes for 30 requests.
    for (int i = 0; i < 30; ++i) {
        const auto d = one.acquire(client, lim, start + 2000 + i);
        ASSERT_TRUE(d && d->allowed);
        EXPECT_EQ(d->remaining, 100U - static_cast<unsigned>(i) - 1U);  // exact on one instance
    }
    EXPECT_EQ(one.counter_writes(), 33U);

    // Two instances in one window: together never more than the limit; short of it by at most
    // what one instance leased and did not spend (a lease, 10).
    std::uint64_t admitted = 0;
    for (int i = 0; i < 300; ++i) {
        const auto d = (i % 2 ? two : one).acquire(client, lim, start + 4000 + i);
        ASSERT_TRUE(d) << d.error().internal_message;
        admitted += d->allowed ? 1 : 0;
    }
    EXPECT_LE(admitted, 100U);
    EXPECT_GE(admitted, 90U);
    // Refusals after the window is spent cost no write.
    const auto writes = one.counter_writes() + two.counter_writes();
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(one.acquire(client, lim, start + 4500 + i)->allowed);
    EXPECT_EQ(one.counter_writes() + two.counter_writes(), writes);
}

TEST(DynamodbRateLimiter, AnonymousCallersAreLimitedPerInstanceWithoutWrites) {
    std::random_device rd;
    auto t = moto("ratelimit-anon-" + std::to_string(rd()));
    store::dynamodb_rate_limiter one(t.table, t.client, std::make_unique<auth::gcra_limiter>()),
        two(t.table, t.client, std::make_unique<auth::gcra_limiter>());
    const core::rate_limit lim{1, 3};
    const core::millis now = 1'764'403'200'000;
    for (auto* l : {&one, &two}) {
        for (int i = 0; i < 3; ++i) EXPECT_TRUE(l->acquire("ip:198.51.100.7", lim, now)->allowed);
        EXPECT_FALSE(l->acquire("ip:198.51.100.7", lim, now)->allowed);  // each instance: the burst
    }
    EXPECT_EQ(one.counter_writes() + two.counter_writes(), 0U);
    EXPECT_TRUE(one.acquire("key:ANONTEST0001", lim, now)->allowed);  // keys still share the counter
    EXPECT_EQ(one.counter_writes(), 1U);
}

}  // namespace
}  // namespace dinex

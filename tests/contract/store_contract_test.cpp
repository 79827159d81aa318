// One suite every core::store back-end must pass. A new back-end joins by adding a row to
// `backends()`.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "../support/fakes.hpp"
#include "../support/moto.hpp"
#include "../support/sqlite.hpp"
#include "../support/stores.hpp"
#include "aws/dynamodb_client.hpp"
#include "core/lifecycle.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/dynamodb/table_schema.hpp"
#include "store/measured/measured_store.hpp"
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace dinex {
namespace {

using core::outcome_kind;
using core::status;
using testing::base_time;
constexpr core::millis day = 86'400'000;

struct backend {
    std::string name;
    bool durable;  // survives close and reopen
    std::function<std::unique_ptr<core::store>(const std::filesystem::path& dir)> open;
    bool purges = true;  // purge_expired deletes; false where the database expires rows itself (TTL)
};

// DynamoDB on moto_server (tests/support/moto.hpp). Every test gets its own table, named after its
// temporary directory, so reopening finds the same data.
std::unique_ptr<core::store> open_dynamodb(const std::filesystem::path& dir) {
    auto t = testing::moto("contract-" + dir.filename().string());
    return std::make_unique<store::dynamodb_store>(
        store::dynamodb_store_options{.table = t.table, .client = t.client});
}

// Names the back-end in test output instead of dumping the struct's bytes.
void PrintTo(const backend& b, std::ostream* os) { *os << b.name; }

std::vector<backend> backends() {
    return {
        {"memory", false,
         [](const std::filesystem::path&) { return std::make_unique<store::memory_store>(); }},
        {"sqlite", true,
         [](const std::filesystem::path& dir) -> std::unique_ptr<core::store> {
             return testing::sqlite_or_throw((dir / "contract.db").string());
         }},
        {"dynamodb", true, open_dynamodb, false},
    };
}

class StoreContract : public ::testing::TestWithParam<backend> {
protected:
    void SetUp() override {
        dir_ = testing::fresh_temp_dir("dinex-contract");
        store_ = GetParam().open(dir_);
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    core::result<core::append_outcome> append(const core::submission& sub) {
        return testing::append_and_wait(*store_, sub, policy_);
    }

    static core::submission sub(std::string tracking_id, std::string event_id, status s, core::millis ts,
                                core::millis now = base_time) {
        return testing::given_submission(std::move(tracking_id), std::move(event_id), s, ts, now);
    }

    std::vector<core::result<core::append_outcome>> append_batch(std::vector<core::submission> subs) {
        std::promise<std::vector<core::result<core::append_outcome>>> p;
        auto f = p.get_future();
        store_->append_batch(
            std::move(subs), policy_,
            [&p](std::vector<core::result<core::append_outcome>> r) { p.set_value(std::move(r)); });
        return f.get();
    }

    // Every page of a listing, followed through its cursors.
    std::vector<core::package_state> list_all(core::package_query q) {
        std::vector<core::package_state> out;
        for (int pages = 0; pages < 1000; ++pages) {
            auto page = store_->list_packages(q);
            EXPECT_TRUE(page) << page.error().internal_message;
            if (!page) break;
            EXPECT_LE(page->packages.size(), q.limit);
            for (auto& s : page->packages) out.push_back(std::move(s));
            if (!page->next) break;
            q.after = page->next;
        }
        return out;
    }

    static std::vector<std::string> ids_of(const std::vector<core::package_state>& v) {
        std::vector<std::string> out;
        for (const auto& s : v) out.push_back(s.tracking_id);
        return out;
    }

    std::optional<core::package> find(const std::string& id, core::millis now = base_time,
                                      std::size_t max = 100) {
        auto r = store_->find(id, now, max);
        EXPECT_TRUE(r) << r.error().internal_message;
        return r ? *r : std::nullopt;
    }

    std::filesystem::path dir_;
    std::unique_ptr<core::store> store_;
    core::lifecycle_policy policy_;
};

TEST_P(StoreContract, UnknownPackageIsAbsent) { EXPECT_FALSE(find("NOPE1")); }

// The stack stops its store through the port, and through the metrics decorator: stop() returns
// only once every write already accepted has answered.
TEST_P(StoreContract, StopThroughTheDecoratorAnswersEveryAcceptedWrite) {
    obs::registry registry;
    store::measured_store measured(*store_);
    measured.register_in(registry);
    constexpr int writes = 50;
    std::atomic<int> stored{0};
    for (int i = 0; i < writes; ++i) {
        measured.append(sub("TRKSTOP" + std::to_string(i), "E1", status::in_transit, base_time), policy_,
                        [&stored](core::result<core::append_outcome> r) {
                            if (r) ++stored;
                        });
    }
    measured.stop();
    EXPECT_EQ(stored.load(), writes);
}

TEST_P(StoreContract, StoresEveryFieldAndReadsItBack) {
    auto s = sub("TRK100", "e1", status::picked_up, base_time - 1000);
    s.incoming.description = "Recogido en tienda";
    s.incoming.notes = "Frágil — «cuidado» 📦";
    s.incoming.coordinates = core::position{-12.046374, -77.042793};
    const auto r = append(s);
    ASSERT_TRUE(r) << r.error().internal_message;
    EXPECT_EQ(r->kind, outcome_kind::created);
    const auto p = find("TRK100");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, r->state);
    ASSERT_EQ(p->events.size(), 1U);
    auto expected = s.incoming;
    expected.sequence = 1;  // the package's first arrival
    EXPECT_EQ(p->events[0], expected);
    EXPECT_EQ(r->stored, expected);
    EXPECT_EQ(p->state.notes, s.incoming.notes);
    EXPECT_EQ(p->state.coordinates, s.incoming.coordinates);
}

TEST_P(StoreContract, HistoryIsNewestFirstAndLateEventsDoNotMoveTheState) {
    ASSERT_TRUE(append(sub("TRK101", "b", status::in_transit, base_time)));
    const auto late = append(sub("TRK101", "a", status::picked_up, base_time - 60'000, base_time + 1));
    ASSERT_TRUE(late);
    EXPECT_EQ(late->kind, outcome_kind::late_arrival);
    ASSERT_TRUE(append(sub("TRK101", "c", status::out_for_delivery, base_time + 60'000, base_time + 2)));
    const auto p = find("TRK101");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state.state, status::out_for_delivery);
    EXPECT_EQ(p->state.event_count, 3U);
    ASSERT_EQ(p->events.size(), 3U);
    EXPECT_EQ(p->events[0].event_id, "c");
    EXPECT_EQ(p->events[1].event_id, "b");
    EXPECT_EQ(p->events[2].event_id, "a");
    EXPECT_EQ(find("TRK101", base_time, 2)->events.size(), 2U);
}

TEST_P(StoreContract, TerminalStateRefusesNewerEvents) {
    ASSERT_TRUE(append(sub("TRK102", "d", status::delivered, base_time)));
    const auto r = append(sub("TRK102", "x", status::in_transit, base_time + 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::errc::conflict);
    EXPECT_EQ(find("TRK102")->events.size(), 1U);  // nothing of the refused event was stored
}

TEST_P(StoreContract, ReplayStoresOnceAndReturnsTheOriginal) {
    const auto s = sub("TRK103", "same", status::in_transit, base_time);
    const auto first = append(s);
    const auto again = append(s);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, outcome_kind::replay);
    EXPECT_EQ(again->stored, first->stored);
    auto different = s;
    different.incoming.state = status::exception;
    EXPECT_EQ(append(different).error().code, core::errc::conflict);
    EXPECT_EQ(find("TRK103")->events.size(), 1U);
}

TEST_P(StoreContract, ConcurrentReplaysStoreOneEvent) {
    constexpr int writers = 16;
    std::vector<std::future<core::result<core::append_outcome>>> results;
    const auto s = sub("TRK104", "race", status::picked_up, base_time);
    for (int i = 0; i < writers; ++i) {
        results.push_back(std::async(std::launch::async, [&] { return append(s); }));
    }
    int created = 0;
    int replays = 0;
    for (auto& f : results) {
        const auto r = f.get();
        ASSERT_TRUE(r);
        created += r->kind == outcome_kind::created;
        replays += r->kind == outcome_kind::replay;
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(replays, writers - 1);
    EXPECT_EQ(find("TRK104")->events.size(), 1U);
}

TEST_P(StoreContract, ConcurrentDistinctEventsAreAllKept) {
    constexpr int threads = 8;
    constexpr int per_thread = 50;
    std::vector<std::thread> pool;
    std::atomic<int> ok{0};
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const auto r = append(sub("TRK105", "t" + std::to_string(t) + "-" + std::to_string(i),
                                          status::in_transit, base_time + t * 1000 + i));
                if (r) ++ok;
            }
        });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(ok.load(), threads * per_thread);
    const auto p = find("TRK105", base_time, 1000);
    EXPECT_EQ(p->events.size(), static_cast<std::size_t>(threads * per_thread));
    EXPECT_EQ(p->state.event_count, static_cast<std::uint64_t>(threads * per_thread));
    EXPECT_EQ(p->state.timestamp, base_time + 7 * 1000 + 49);  // the latest one won
}

TEST_P(StoreContract, ExpiredPackagesAreHidden) {
    ASSERT_TRUE(append(sub("TRK110", "e", status::in_transit, base_time)));
    ASSERT_TRUE(append(sub("TRK111", "e", status::in_transit, base_time, base_time + 10 * day)));
    const core::millis later = base_time + 30 * day + 1;
    EXPECT_FALSE(find("TRK110", later));
    EXPECT_TRUE(find("TRK111", later));
    EXPECT_TRUE(store_->purge_expired(later));
    EXPECT_FALSE(find("TRK110", later));
    EXPECT_TRUE(find("TRK111", later));
}

TEST_P(StoreContract, ExpiredPackagesAreHiddenThenPurged) {
    if (!GetParam().purges) GTEST_SKIP() << "expired rows are deleted by the database itself (DynamoDB TTL)";
    ASSERT_TRUE(append(sub("TRK106", "e", status::in_transit, base_time)));
    ASSERT_TRUE(append(sub("TRK107", "e", status::in_transit, base_time, base_time + 10 * day)));
    const core::millis later = base_time + 30 * day + 1;
    EXPECT_FALSE(find("TRK106", later));
    EXPECT_TRUE(find("TRK107", later));
    EXPECT_EQ(store_->purge_expired(later).value(), 1U);
    EXPECT_EQ(store_->purge_expired(later).value(), 0U);
    EXPECT_TRUE(find("TRK107", later));
}

TEST_P(StoreContract, AnExpiredPackageStartsAfreshOnItsNextEvent) {
    ASSERT_TRUE(append(sub("TRK108", "old", status::delivered, base_time)));
    const core::millis later = base_time + 31 * day;
    const auto r = append(sub("TRK108", "new", status::info_received, later, later));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, outcome_kind::created);
    EXPECT_FALSE(r->previous);
    EXPECT_EQ(find("TRK108", later)->events.size(), 1U);
}

TEST_P(StoreContract, DurableBackendsKeepAcknowledgedWritesAcrossReopen) {
    if (!GetParam().durable) GTEST_SKIP() << "not a durable back-end";
    ASSERT_TRUE(append(sub("TRK109", "e1", status::picked_up, base_time)));
    ASSERT_TRUE(append(sub("TRK109", "e2", status::in_transit, base_time + 1)));
    store_.reset();
    store_ = GetParam().open(dir_);
    const auto p = find("TRK109");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->events.size(), 2U);
    EXPECT_EQ(p->state.state, status::in_transit);
}

TEST_P(StoreContract, PingAnswers) { EXPECT_TRUE(store_->ping()); }

// ---- batches (issue #9) ----

TEST_P(StoreContract, BatchAnswersEveryItemInOrderAndOneBadItemBlocksNoOther) {
    ASSERT_TRUE(append(sub("TRK200", "done", status::delivered, base_time - 10'000)));
    std::vector<core::submission> batch;
    batch.push_back(sub("TRK201", "a1", status::picked_up, base_time - 5000));
    batch.push_back(sub("TRK200", "after", status::in_transit, base_time));  // newer than DELIVERED
    batch.push_back(sub("TRK201", "a2", status::in_transit, base_time - 4000));
    batch.push_back(sub("TRK201", "a1", status::picked_up, base_time - 5000));  // duplicate in the batch
    auto reused = sub("TRK201", "a2", status::exception, base_time - 4000);     // same key, other content
    batch.push_back(reused);
    batch.push_back(sub("TRK201", "a0", status::info_received, base_time - 9000));  // late arrival
    batch.push_back(sub("TRK202", "b1", status::in_transit, base_time - 1000));
    const auto r = append_batch(batch);
    ASSERT_EQ(r.size(), batch.size());
    ASSERT_TRUE(r[0]) << r[0].error().internal_message;
    EXPECT_EQ(r[0]->kind, outcome_kind::created);
    ASSERT_FALSE(r[1]);
    EXPECT_EQ(r[1].error().code, core::errc::conflict);
    ASSERT_TRUE(r[2]);
    EXPECT_EQ(r[2]->kind, outcome_kind::created);
    EXPECT_EQ(r[2]->previous->event_id, "a1");
    ASSERT_TRUE(r[3]);
    EXPECT_EQ(r[3]->kind, outcome_kind::replay);
    EXPECT_EQ(r[3]->stored, r[0]->stored);  // the original as stored (with its arrival sequence)
    ASSERT_FALSE(r[4]);
    EXPECT_EQ(r[4].error().code, core::errc::conflict);
    ASSERT_TRUE(r[5]);
    EXPECT_EQ(r[5]->kind, outcome_kind::late_arrival);
    ASSERT_TRUE(r[6]);
    EXPECT_EQ(r[6]->kind, outcome_kind::created);

    const auto p = find("TRK201");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state.event_id, "a2");
    EXPECT_EQ(p->state.event_count, 3U);
    ASSERT_EQ(p->events.size(), 3U);
    EXPECT_EQ(p->events[0].event_id, "a2");
    EXPECT_EQ(p->events[2].event_id, "a0");
    EXPECT_EQ(find("TRK200")->events.size(), 1U);
    EXPECT_TRUE(find("TRK202"));
}

TEST_P(StoreContract, ReplayedBatchStoresNothingTwice) {
    std::vector<core::submission> batch;
    for (int i = 0; i < 5; ++i) {
        batch.push_back(sub("TRK210", "e" + std::to_string(i), status::in_transit, base_time - 10'000 + i));
        batch.push_back(sub("TRK211", "e" + std::to_string(i), status::in_transit, base_time - 10'000 + i));
    }
    const auto first = append_batch(batch);
    for (const auto& r : first) ASSERT_TRUE(r && r->kind == outcome_kind::created);
    const auto again = append_batch(batch);
    ASSERT_EQ(again.size(), batch.size());
    for (std::size_t i = 0; i < again.size(); ++i) {
        ASSERT_TRUE(again[i]);
        EXPECT_EQ(again[i]->kind, outcome_kind::replay);
        EXPECT_EQ(again[i]->stored, first[i]->stored);
    }
    EXPECT_EQ(find("TRK210")->state.event_count, 5U);
    EXPECT_EQ(find("TRK211")->events.size(), 5U);
}

TEST_P(StoreContract, LargeBatchOnOnePackageKeepsEveryEventAndTheLatestState) {
    // More events of one package than one DynamoDB transaction holds, newest in the middle.
    std::vector<core::submission> batch;
    for (int i = 0; i < 120; ++i) {
        const int ts = i == 60 ? 1000 : i;
        batch.push_back(
            sub("TRK220", "s" + std::to_string(1000 + i), status::in_transit, base_time - 100'000 + ts));
    }
    const auto r = append_batch(batch);
    int created = 0, late = 0;
    for (const auto& x : r) {
        ASSERT_TRUE(x) << x.error().internal_message;
        created += x->kind == outcome_kind::created;
        late += x->kind == outcome_kind::late_arrival;
    }
    EXPECT_EQ(created, 61);  // 0..60 each newer than the last; 61..119 are older than 60
    EXPECT_EQ(late, 59);
    const auto p = find("TRK220", base_time, 1000);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->events.size(), 120U);
    EXPECT_EQ(p->state.event_count, 120U);
    EXPECT_EQ(p->state.event_id, "s1060");
}

// ---- order: items of one request apply in the order given; ties go to the later arrival ----

// Scans uploaded together without timestamps: every item gets the batch's receive time, so only
// their order tells which is newer (issue #16: they used to be ordered by event_id).
TEST_P(StoreContract, BatchWithoutTimestampsAppliesInTheOrderGiven) {
    auto untimed = [](std::string id, status st) {
        auto s = sub("TRK240", std::move(id), st, base_time);
        s.timestamp_given = false;
        return s;
    };
    // Generated ids that sort against the order given.
    const auto r = append_batch({untimed("01Z3", status::out_for_delivery),
                                 untimed("01Z2", status::delivered), untimed("01Z1", status::in_transit)});
    ASSERT_EQ(r.size(), 3U);
    ASSERT_TRUE(r[0]) << r[0].error().internal_message;
    ASSERT_TRUE(r[1]) << r[1].error().internal_message;
    EXPECT_EQ(r[0]->kind, outcome_kind::created);
    EXPECT_EQ(r[1]->kind, outcome_kind::created);
    ASSERT_FALSE(r[2]);  // after DELIVERED, in the same batch
    EXPECT_EQ(r[2].error().code, core::errc::conflict);
    EXPECT_EQ(r[2].error().details.at(0).rule, "after_terminal_status");
    const auto p = find("TRK240");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state.state, status::delivered);
    ASSERT_EQ(p->events.size(), 2U);
    EXPECT_EQ(p->events[0].event_id, "01Z2");  // newest first: the later item
    EXPECT_EQ(p->events[1].event_id, "01Z3");
}

TEST_P(StoreContract, OrderNeverDependsOnEventIds) {
    // A client key ("scan-9") then a generated one that sorts before it, at the same timestamp.
    const auto r = append_batch({sub("TRK241", "scan-9", status::out_for_delivery, base_time - 1000),
                                 sub("TRK241", "01HZZZZZZZ", status::delivered, base_time - 1000)});
    ASSERT_TRUE(r[0] && r[1]);
    EXPECT_EQ(r[1]->kind, outcome_kind::created);
    EXPECT_GT(r[1]->stored.sequence, r[0]->stored.sequence);
    EXPECT_EQ(find("TRK241")->state.state, status::delivered);
}

TEST_P(StoreContract, TiesBetweenSeparateRequestsGoToTheLaterArrival) {
    ASSERT_TRUE(append(sub("TRK242", "b", status::in_transit, base_time - 5000)));
    const auto second = append(sub("TRK242", "a", status::out_for_delivery, base_time - 5000, base_time + 1));
    ASSERT_TRUE(second) << second.error().internal_message;
    EXPECT_EQ(second->kind, outcome_kind::created);
    EXPECT_TRUE(second->state.event_id == "a");
    const auto p = find("TRK242");
    ASSERT_EQ(p->events.size(), 2U);
    EXPECT_EQ(p->events[0].event_id, "a");
    EXPECT_EQ(p->events[0].sequence, 2U);
    EXPECT_EQ(p->events[1].event_id, "b");
    EXPECT_EQ(p->events[1].sequence, 1U);
    // A third at the same millisecond, again later: the history keeps arrival order, newest first.
    ASSERT_TRUE(append(sub("TRK242", "0", status::available_for_pickup, base_time - 5000, base_time + 2)));
    const auto again = find("TRK242");
    ASSERT_EQ(again->events.size(), 3U);
    EXPECT_EQ(again->events[0].event_id, "0");
    EXPECT_EQ(again->state.state, status::available_for_pickup);
    // A limited read cuts in that order too.
    const auto two = find("TRK242", base_time, 2);
    ASSERT_EQ(two->events.size(), 2U);
    EXPECT_EQ(two->events[1].event_id, "a");
}

// ---- estimated delivery ----

TEST_P(StoreContract, EstimatedDeliveryIsStoredAndCarriedIntoTheState) {
    const core::millis eta1 = base_time + 3 * day;
    const core::millis eta2 = base_time + 2 * day;
    auto e1 = sub("TRK230", "e1", status::picked_up, base_time - 3000);
    e1.incoming.estimated_delivery = eta1;
    ASSERT_TRUE(append(e1));
    EXPECT_EQ(find("TRK230")->state.estimated_delivery, eta1);
    EXPECT_EQ(find("TRK230")->events[0].estimated_delivery, eta1);
    // A newer event without an estimate keeps the promise.
    ASSERT_TRUE(append(sub("TRK230", "e2", status::in_transit, base_time - 2000)));
    EXPECT_EQ(find("TRK230")->state.estimated_delivery, eta1);
    // A late event with an estimate does not move the state.
    auto late = sub("TRK230", "e0", status::info_received, base_time - 9000);
    late.incoming.estimated_delivery = eta2;
    ASSERT_EQ(append(late)->kind, outcome_kind::late_arrival);
    EXPECT_EQ(find("TRK230")->state.estimated_delivery, eta1);
    // A newer one with an estimate replaces it; a replay with another estimate is a reused key.
    auto e3 = sub("TRK230", "e3", status::out_for_delivery, base_time - 1000);
    e3.incoming.estimated_delivery = eta2;
    ASSERT_TRUE(append(e3));
    EXPECT_EQ(find("TRK230")->state.estimated_delivery, eta2);
    auto e3b = e3;
    e3b.incoming.estimated_delivery = eta1;
    EXPECT_EQ(append(e3b).error().code, core::errc::conflict);
    // Delivery ends the promise.
    ASSERT_TRUE(append(sub("TRK230", "e4", status::delivered, base_time)));
    const auto p = find("TRK230");
    EXPECT_FALSE(p->state.estimated_delivery);
    EXPECT_EQ(p->events[1].estimated_delivery, eta2);
}

// ---- the needs-attention listing ----

class ListingContract : public StoreContract {
protected:
    // Ten packages: updated one minute apart (TRK300 oldest), statuses cycling through three.
    void seed() {
        const status cycle[] = {status::exception, status::in_transit, status::delivery_failed};
        for (int i = 0; i < 10; ++i) {
            const core::millis at = base_time - (10 - i) * 60'000;
            ASSERT_TRUE(append(sub("TRK3" + std::to_string(10 + i), "e", cycle[i % 3], at - 1000, at)));
        }
    }
    core::package_query query(std::vector<status> statuses, std::size_t limit) {
        core::package_query q;
        q.statuses = std::move(statuses);
        q.limit = limit;
        q.now = base_time;
        return q;
    }
};

TEST_P(ListingContract, ByStatusNewestChangeFirstThroughEveryPage) {
    seed();
    const auto all = list_all(query({status::exception, status::delivery_failed}, 2));
    EXPECT_EQ(ids_of(all), (std::vector<std::string>{"TRK319", "TRK318", "TRK316", "TRK315", "TRK313",
                                                     "TRK312", "TRK310"}));
    EXPECT_EQ(ids_of(list_all(query({status::in_transit}, 50))),
              (std::vector<std::string>{"TRK317", "TRK314", "TRK311"}));
}

TEST_P(ListingContract, StaleOnlyAndStaleWithStatus) {
    seed();
    auto q = query({}, 3);
    q.stale_before = base_time - 5 * 60'000;  // no change in the last five minutes: TRK310..TRK314
    EXPECT_EQ(ids_of(list_all(q)),
              (std::vector<std::string>{"TRK314", "TRK313", "TRK312", "TRK311", "TRK310"}));
    q.statuses = {status::exception};
    EXPECT_EQ(ids_of(list_all(q)), (std::vector<std::string>{"TRK313", "TRK310"}));
    EXPECT_EQ(list_all(query({}, 200)).size(), 10U);
}

TEST_P(ListingContract, TiesOnUpdatedAtArePagedWithoutLossOrRepeat) {
    for (int i = 0; i < 7; ++i) {
        ASSERT_TRUE(append(
            sub("TRK33" + std::to_string(i), "e", status::exception, base_time - 5000, base_time - 1000)));
    }
    const auto all = list_all(query({status::exception}, 2));
    EXPECT_EQ(ids_of(all), (std::vector<std::string>{"TRK336", "TRK335", "TRK334", "TRK333", "TRK332",
                                                     "TRK331", "TRK330"}));
}

TEST_P(ListingContract, ExpiredPackagesAreNotListed) {
    ASSERT_TRUE(append(sub("TRK340", "e", status::exception, base_time)));
    ASSERT_TRUE(append(sub("TRK341", "e", status::exception, base_time, base_time + 10 * day)));
    auto q = query({status::exception}, 50);
    q.now = base_time + 30 * day + 1;
    EXPECT_EQ(ids_of(list_all(q)), std::vector<std::string>{"TRK341"});
    q.statuses.clear();
    EXPECT_EQ(ids_of(list_all(q)), std::vector<std::string>{"TRK341"});
}

// ---- export ----

TEST_P(StoreContract, ExportPagesThroughEveryLivePackageWithItsHistory) {
    for (int i = 0; i < 7; ++i) {
        const std::string id = "TRK40" + std::to_string(i);
        ASSERT_TRUE(append(sub(id, "a", status::picked_up, base_time - 2000)));
        ASSERT_TRUE(append(sub(id, "b", status::in_transit, base_time - 1000)));
    }
    ASSERT_TRUE(append(sub("TRK499", "old", status::in_transit, base_time - 40 * day, base_time - 40 * day)));
    std::map<std::string, core::package> seen;
    std::string cursor;
    for (int pages = 0; pages < 100; ++pages) {
        auto page = store_->export_packages(cursor, 3, base_time);
        ASSERT_TRUE(page) << page.error().internal_message;
        EXPECT_LE(page->packages.size(), 3U);
        for (auto& p : page->packages) EXPECT_TRUE(seen.emplace(p.state.tracking_id, std::move(p)).second);
        if (page->next.empty()) break;
        cursor = page->next;
    }
    ASSERT_EQ(seen.size(), 7U);
    const auto& p = seen.at("TRK403");
    ASSERT_EQ(p.events.size(), 2U);
    EXPECT_EQ(p.events[0].event_id, "b");
    EXPECT_EQ(p.events[1].event_id, "a");
    EXPECT_EQ(p.state, find("TRK403")->state);
}

TEST(SqliteListing, ReadsTheStatusIndexInOrderNeverTheWholeTable) {
    const auto dir = testing::fresh_temp_dir("dinex-plan");
    {
        auto s = testing::open_sqlite({.path = (dir / "plan.db").string()});
        ASSERT_TRUE(s);
        const auto plans = (*s)->listing_query_plans();
        ASSERT_TRUE(plans);
        ASSERT_FALSE(plans->empty());
        for (const auto& line : *plans) {
            SCOPED_TRACE(line);
            // A range of the index bounded by status and the row value (cursor or staleness).
            EXPECT_EQ(line,
                      "SEARCH packages USING INDEX packages_by_status (status=? AND "
                      "(updated_at,tracking_id)<(?,?))");
            EXPECT_EQ(line.find("TEMP B-TREE"), std::string::npos);  // no sort: the index gives the order
        }
    }
    std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<backend>& p) { return p.param.name; });
INSTANTIATE_TEST_SUITE_P(Backends, ListingContract, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<backend>& p) { return p.param.name; });

}  // namespace
}  // namespace dinex

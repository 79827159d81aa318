#include <gtest/gtest.h>

#include <set>

#include <future>

#include "../support/fakes.hpp"
#include "../support/stores.hpp"
#include "core/lifecycle.hpp"
#include "core/system_ports.hpp"
#include "core/tracking_service.hpp"
#include "store/memory/memory_store.hpp"

namespace dinex {
namespace {

using core::errc;
using core::event_input;
using core::status;
using testing::base_time;

constexpr core::millis minute = 60'000;
constexpr core::millis day = 86'400'000;

bool has_detail(const core::error& e, std::string_view field, std::string_view rule_prefix) {
    for (const auto& d : e.details) {
        if (d.field == field && d.rule.starts_with(rule_prefix)) return true;
    }
    return false;
}

event_input valid_input() {
    event_input in;
    in.tracking_id = "TRK001";
    in.location = "Lima";
    in.status = "IN_TRANSIT";
    return in;
}

TEST(TrackingId, IsTrimmedAndUpperCased) {
    EXPECT_EQ(core::normalize_tracking_id("  trk-001_a \t").value(), "TRK-001_A");
}

TEST(TrackingId, RejectsBadShapes) {
    for (const char* bad : {"", "   ", "AB", "-ABC", "_ABC", "TRK 001", "TRK#1", "ÑANDU1",
                            "A2345678901234567890123456789012345678901"}) {
        const auto r = core::normalize_tracking_id(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::invalid_argument) << bad;
        EXPECT_EQ(r.error().details.at(0).field, "tracking_id");
    }
    EXPECT_TRUE(core::normalize_tracking_id("A234567890123456789012345678901234567890"));  // 40
    EXPECT_TRUE(core::normalize_tracking_id("ABC"));
}

class Validation : public ::testing::Test {
protected:
    testing::sequence_ids ids;
    core::lifecycle_policy policy;
};

TEST_F(Validation, AcceptsTheOriginalRequest) {
    const auto sub = core::validate(valid_input(), base_time, policy, ids);
    ASSERT_TRUE(sub) << sub.error().message;
    EXPECT_EQ(sub->incoming.tracking_id, "TRK001");
    EXPECT_EQ(sub->incoming.state, status::in_transit);
    EXPECT_EQ(sub->incoming.timestamp, base_time);  // defaults to receive time
    EXPECT_EQ(sub->incoming.received_at, base_time);
    EXPECT_EQ(sub->incoming.event_id, "GEN00000001");
    EXPECT_FALSE(sub->event_id_given);
    EXPECT_FALSE(sub->timestamp_given);
}

TEST_F(Validation, MissingFieldsAreAllReportedAs400) {
    const auto r = core::validate(event_input{}, base_time, policy, ids);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_TRUE(has_detail(r.error(), "tracking_id", "required"));
    EXPECT_TRUE(has_detail(r.error(), "location", "required"));
    EXPECT_EQ(r.error().details.size(), 2U);  // status has a default
}

TEST_F(Validation, MissingStatusIsInTransitAsTheOriginal) {
    auto in = valid_input();
    in.status.reset();
    const auto r = core::validate(in, base_time, policy, ids);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->incoming.state, status::in_transit);
}

TEST_F(Validation, AMissingTrackingIdAloneHasTheOriginalsMessage) {
    auto in = valid_input();
    in.tracking_id.reset();
    const auto r = core::validate(in, base_time, policy, ids);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "tracking_id requerido");
    EXPECT_TRUE(has_detail(r.error(), "tracking_id", "required"));
}

// Without event_id, an event with a timestamp is keyed by its content: sent again it is the same
// key (a replay), and any difference a replay would refuse makes another key.
TEST_F(Validation, ATimestampWithoutEventIdGivesAContentKey) {
    auto in = valid_input();
    in.timestamp = base_time - minute;
    const auto first = core::validate(in, base_time, policy, ids);
    const auto again = core::validate(in, base_time + minute, policy, ids);
    ASSERT_TRUE(first && again);
    EXPECT_EQ(first->incoming.event_id, again->incoming.event_id);
    EXPECT_TRUE(first->incoming.event_id.starts_with("c-"));
    EXPECT_EQ(first->incoming.event_id.size(), 34U);
    EXPECT_FALSE(first->event_id_given);
    // Trimming and case are normalised before the key is taken.
    auto spaced = in;
    spaced.tracking_id = " trk001 ";
    spaced.location = " Lima ";
    EXPECT_EQ(core::validate(spaced, base_time, policy, ids)->incoming.event_id, first->incoming.event_id);
    std::set<std::string> keys{first->incoming.event_id};
    auto differ = [&](auto change) {
        auto other = in;
        change(other);
        const auto r = core::validate(other, base_time, policy, ids);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_TRUE(keys.insert(r->incoming.event_id).second) << "a different event got an existing key";
    };
    differ([](event_input& e) { e.timestamp = *e.timestamp + 1; });
    differ([](event_input& e) { e.status = "DELIVERED"; });
    differ([](event_input& e) { e.location = "Lim"; });
    differ([](event_input& e) { e.location = "Lima2"; });
    differ([](event_input& e) { e.description = "x"; });
    differ([](event_input& e) { e.notes = "x"; });
    differ([](event_input& e) {
        e.latitude = 1.0;
        e.longitude = 2.0;
    });
    differ([](event_input& e) {
        e.latitude = 2.0;
        e.longitude = 1.0;
    });
    differ([](event_input& e) { e.estimated_delivery = base_time + 86'400'000; });
    differ([](event_input& e) { e.tracking_id = "TRK002"; });
    // No timestamp: nothing tells a retry from a new scan, so a generated id.
    auto untimed = valid_input();
    const auto a = core::validate(untimed, base_time, policy, ids);
    const auto b = core::validate(untimed, base_time, policy, ids);
    EXPECT_NE(a->incoming.event_id, b->incoming.event_id);
}

TEST_F(Validation, UnknownStatusListsTheValidOnes) {
    auto in = valid_input();
    in.status = "LOST_IN_SPACE";
    const auto r = core::validate(in, base_time, policy, ids);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unprocessable);
    EXPECT_TRUE(has_detail(r.error(), "status", "one_of:INFO_RECEIVED, PICKED_UP"));
}

TEST_F(Validation, StatusIsCaseInsensitive) {
    auto in = valid_input();
    in.status = " delivered ";
    EXPECT_EQ(core::validate(in, base_time, policy, ids)->incoming.state, status::delivered);
}

TEST_F(Validation, EmptyLocationIsRefused) {
    auto in = valid_input();
    in.location = "   ";
    const auto r = core::validate(in, base_time, policy, ids);
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_detail(r.error(), "location", "not_empty"));
}

TEST_F(Validation, OverlongTextIsRefusedCountingCharactersNotBytes) {
    auto in = valid_input();
    in.location = std::string(200, 'x');
    EXPECT_TRUE(core::validate(in, base_time, policy, ids));
    std::string enye;
    for (int i = 0; i < 200; ++i) enye += "ñ";
    in.location = enye;  // 400 bytes, 200 characters
    EXPECT_TRUE(core::validate(in, base_time, policy, ids));
    in.location = std::string(201, 'x');
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "location", "max_length:200"));
    in = valid_input();
    in.notes = std::string(1001, 'n');
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "notes", "max_length:1000"));
    in = valid_input();
    in.description = std::string(501, 'd');
    EXPECT_TRUE(
        has_detail(core::validate(in, base_time, policy, ids).error(), "description", "max_length:500"));
}

TEST_F(Validation, ControlCharactersAreRefused) {
    auto in = valid_input();
    in.location = std::string("Li\0ma", 5);
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "location", "no_control"));
}

TEST_F(Validation, CoordinatesMustBeInRangeAndTogether) {
    auto in = valid_input();
    in.latitude = -12.05;
    in.longitude = -77.04;
    const auto ok = core::validate(in, base_time, policy, ids);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->incoming.coordinates, (core::position{-12.05, -77.04}));

    in.latitude = 90.5;
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "latitude", "range"));
    in.latitude = 0;
    in.longitude = -180.01;
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "longitude", "range"));
    in.longitude = std::nullopt;
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "longitude", "required_with"));
    in.latitude = 90;
    in.longitude = 180;
    EXPECT_TRUE(core::validate(in, base_time, policy, ids));
}

TEST_F(Validation, TimestampWindow) {
    auto in = valid_input();
    in.timestamp = base_time + 5 * minute;
    EXPECT_TRUE(core::validate(in, base_time, policy, ids));
    in.timestamp = base_time + 5 * minute + 1;
    const auto future = core::validate(in, base_time, policy, ids);
    ASSERT_FALSE(future);
    EXPECT_EQ(future.error().code, errc::unprocessable);
    EXPECT_TRUE(has_detail(future.error(), "timestamp", "not_in_future"));
    in.timestamp = base_time - 31 * day;
    EXPECT_TRUE(
        has_detail(core::validate(in, base_time, policy, ids).error(), "timestamp", "within_retention"));
}

TEST_F(Validation, ClientEventIdIsKeptWhenWellFormed) {
    auto in = valid_input();
    in.event_id = "scan-2026:11.29_001";
    const auto r = core::validate(in, base_time, policy, ids);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->incoming.event_id, "scan-2026:11.29_001");
    EXPECT_TRUE(r->event_id_given);
    in.event_id = "has space";
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "event_id", "pattern"));
    in.event_id = std::string(65, 'e');
    EXPECT_TRUE(has_detail(core::validate(in, base_time, policy, ids).error(), "event_id", "pattern"));
}

// --- lifecycle -------------------------------------------------------------------------------

core::submission make_sub(status s, core::millis ts, std::string id, core::millis now = base_time) {
    return testing::given_submission("TRK001", std::move(id), s, ts, now);
}

TEST(Lifecycle, FirstEventCreatesThePackage) {
    const auto r = core::decide(std::nullopt, std::nullopt, make_sub(status::picked_up, base_time, "e1"), {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->kind, core::outcome_kind::created);
    EXPECT_EQ(r->state.state, status::picked_up);
    EXPECT_EQ(r->state.created_at, base_time);
    EXPECT_EQ(r->state.expires_at, base_time + 30 * day);
    EXPECT_EQ(r->state.event_count, 1U);
    EXPECT_FALSE(r->previous);
}

TEST(Lifecycle, NewerEventMovesTheStateOlderOneOnlyJoinsHistory) {
    const auto first =
        core::decide(std::nullopt, std::nullopt, make_sub(status::in_transit, base_time, "e2"), {});
    const auto late =
        core::decide(first->state, std::nullopt,
                     make_sub(status::picked_up, base_time - minute, "e1", base_time + minute), {});
    ASSERT_TRUE(late);
    EXPECT_EQ(late->kind, core::outcome_kind::late_arrival);
    EXPECT_EQ(late->state.state, status::in_transit);
    EXPECT_EQ(late->state.event_count, 2U);
    EXPECT_EQ(late->state.updated_at, base_time + minute);  // a change of the record all the same

    const auto newer = core::decide(late->state, std::nullopt,
                                    make_sub(status::out_for_delivery, base_time + minute, "e3"), {});
    EXPECT_EQ(newer->kind, core::outcome_kind::created);
    EXPECT_EQ(newer->state.state, status::out_for_delivery);
    EXPECT_EQ(newer->previous->state, status::in_transit);
}

// Ties go to the later arrival, whatever the ids (issue #16: they went to the larger event_id).
TEST(Lifecycle, SameMillisecondIsOrderedByArrival) {
    const auto a = core::decide(std::nullopt, std::nullopt, make_sub(status::in_transit, base_time, "b"), {});
    EXPECT_EQ(a->stored.sequence, 1U);
    const auto lower_id =
        core::decide(a->state, std::nullopt, make_sub(status::picked_up, base_time, "a"), {});
    EXPECT_EQ(lower_id->kind, core::outcome_kind::created);
    EXPECT_EQ(lower_id->state.state, status::picked_up);
    EXPECT_EQ(lower_id->stored.sequence, 2U);
    const auto higher_id =
        core::decide(lower_id->state, std::nullopt, make_sub(status::out_for_delivery, base_time, "c"), {});
    EXPECT_EQ(higher_id->kind, core::outcome_kind::created);
    EXPECT_EQ(higher_id->stored.sequence, 3U);
    // Late arrivals take a sequence too: it is the arrival order, not the history order.
    const auto late =
        core::decide(higher_id->state, std::nullopt, make_sub(status::info_received, base_time - 1, "z"), {});
    EXPECT_EQ(late->kind, core::outcome_kind::late_arrival);
    EXPECT_EQ(late->stored.sequence, 4U);
}

TEST(Lifecycle, TerminalStatusRefusesNewerEventsButTakesOlderOnes) {
    for (status terminal : {status::delivered, status::cancelled}) {
        const auto done = core::decide(std::nullopt, std::nullopt, make_sub(terminal, base_time, "t"), {});
        const auto after =
            core::decide(done->state, std::nullopt, make_sub(status::in_transit, base_time + 1, "x"), {});
        ASSERT_FALSE(after);
        EXPECT_EQ(after.error().code, errc::conflict);
        EXPECT_TRUE(has_detail(after.error(), "status", "after_terminal_status"));
        const auto before =
            core::decide(done->state, std::nullopt, make_sub(status::in_transit, base_time - 1, "x"), {});
        ASSERT_TRUE(before);
        EXPECT_EQ(before->kind, core::outcome_kind::late_arrival);
        EXPECT_EQ(before->state.state, terminal);
    }
}

TEST(Lifecycle, ReplayReturnsTheOriginalAndDifferentContentIsAConflict) {
    const auto sub = make_sub(status::in_transit, base_time, "e1");
    const auto first = core::decide(std::nullopt, std::nullopt, sub, {});
    const auto replay = core::decide(first->state, first->stored, sub, {});
    ASSERT_TRUE(replay);
    EXPECT_EQ(replay->kind, core::outcome_kind::replay);
    EXPECT_EQ(replay->stored, first->stored);

    auto changed = sub;
    changed.incoming.location = "Cusco";
    const auto reused = core::decide(first->state, first->stored, changed, {});
    ASSERT_FALSE(reused);
    EXPECT_EQ(reused.error().code, errc::conflict);
    EXPECT_TRUE(has_detail(reused.error(), "event_id", "idempotency_key_reused"));

    // Without an explicit timestamp a retry carries a new receive time: still the same event.
    auto retry = sub;
    retry.timestamp_given = false;
    retry.incoming.timestamp = base_time + 5000;
    EXPECT_EQ(core::decide(first->state, first->stored, retry, {})->kind, core::outcome_kind::replay);
}

// --- the service over the in-memory store ---------------------------------------------------

class Service : public ::testing::Test {
protected:
    testing::manual_clock clock;
    testing::sequence_ids ids;
    store::memory_store store;
    core::tracking_service service{store, clock, ids};

    core::result<core::append_outcome> record(event_input in) {
        std::promise<core::result<core::append_outcome>> p;
        service.record(in, [&](core::result<core::append_outcome> r) { p.set_value(std::move(r)); });
        return p.get_future().get();
    }
};

TEST_F(Service, RecordsAndTracksWithHistoryNewestFirst) {
    for (const char* s : {"INFO_RECEIVED", "PICKED_UP", "IN_TRANSIT"}) {
        auto in = valid_input();
        in.status = s;
        ASSERT_TRUE(record(in));
        clock.advance(minute);
    }
    const auto p = service.track(" trk001 ");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state.state, status::in_transit);
    ASSERT_EQ(p->events.size(), 3U);
    EXPECT_EQ(p->events[0].state, status::in_transit);
    EXPECT_EQ(p->events[2].state, status::info_received);
}

TEST_F(Service, UnknownPackageIsNotFoundAndBadIdIsInvalid) {
    EXPECT_EQ(service.track("NOPE01").error().code, errc::not_found);
    EXPECT_EQ(service.track("x").error().code, errc::invalid_argument);
}

TEST_F(Service, IdempotentRecord) {
    auto in = valid_input();
    in.event_id = "evt-1";
    EXPECT_EQ(record(in)->kind, core::outcome_kind::created);
    clock.advance(minute);
    EXPECT_EQ(record(in)->kind, core::outcome_kind::replay);
    EXPECT_EQ(service.track("TRK001")->events.size(), 1U);
}

TEST_F(Service, ExpiredPackagesDisappearAndArePurged) {
    ASSERT_TRUE(record(valid_input()));
    clock.advance(30 * day + 1);
    EXPECT_EQ(service.track("TRK001").error().code, errc::not_found);
    EXPECT_EQ(service.purge_expired().value(), 1U);
}

TEST_F(Service, StoreOutageIsReportedAsUnavailable) {
    store.fail_next(2);
    EXPECT_EQ(record(valid_input()).error().code, errc::unavailable);
    EXPECT_EQ(service.track("TRK001").error().code, errc::unavailable);
    EXPECT_TRUE(record(valid_input()));
}

TEST_F(Service, InvalidInputNeverReachesTheStore) {
    auto in = valid_input();
    in.status = "NOPE";
    store.fail_next(1);  // would fail the first store call, if there were one
    EXPECT_EQ(record(in).error().code, errc::unprocessable);
    EXPECT_FALSE(store.ping());  // the injected failure was still pending: the store was never called
}

TEST(UlidGenerator, ProducesSortableUniqueIds) {
    testing::manual_clock clock;
    core::ulid_generator ids(clock);
    const auto a = ids.next_id();
    clock.advance(1);
    const auto b = ids.next_id();
    EXPECT_EQ(a.size(), 26U);
    EXPECT_LT(a, b);
    EXPECT_NE(ids.next_id(), ids.next_id());
}

}  // namespace
}  // namespace dinex

// Issue #9's pure pieces: estimated_delivery validation and its rule in decide, the batch codec,
// the listing cursor, routes, the CSV reader of `import`, and record_batch's merging of
// validation errors with store answers.
#include <gtest/gtest.h>

#include <future>
#include <sstream>

#include "../support/fakes.hpp"
#include "api/cursor.hpp"
#include "api/json_codec.hpp"
#include "api/router.hpp"
#include "cli/event_file.hpp"
#include "core/lifecycle.hpp"
#include "core/tracking_service.hpp"
#include "store/memory/memory_store.hpp"

namespace dinex {
namespace {

using core::errc;
using core::status;
using testing::base_time;

constexpr core::millis day = 86'400'000;

core::event_input input(std::string id = "TRK001") {
    core::event_input in;
    in.tracking_id = std::move(id);
    in.location = "Lima";
    in.status = "IN_TRANSIT";
    in.timestamp = base_time - 1000;
    return in;
}

bool has_detail(const core::error& e, std::string_view field, std::string_view rule) {
    for (const auto& d : e.details) {
        if (d.field == field && d.rule == rule) return true;
    }
    return false;
}

TEST(EstimatedDelivery, IsBoundedByTheEventsOwnTimestamp) {
    testing::sequence_ids ids;
    const core::lifecycle_policy policy;
    auto in = input();
    in.estimated_delivery = *in.timestamp - day;  // exactly a day before: allowed
    EXPECT_TRUE(core::validate(in, base_time, policy, ids));
    in.estimated_delivery = *in.timestamp + 365 * day;
    EXPECT_TRUE(core::validate(in, base_time, policy, ids));
    in.estimated_delivery = *in.timestamp - day - 1;
    auto r = core::validate(in, base_time, policy, ids);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::unprocessable);
    EXPECT_TRUE(has_detail(r.error(), "estimated_delivery", "not_before:timestamp-1d"));
    in.estimated_delivery = *in.timestamp + 365 * day + 1;
    r = core::validate(in, base_time, policy, ids);
    ASSERT_FALSE(r);
    EXPECT_TRUE(has_detail(r.error(), "estimated_delivery", "not_after:timestamp+365d"));
}

TEST(EstimatedDelivery, NewestEventWithOneWinsDeliveryClearsIt) {
    const core::lifecycle_policy policy;
    core::submission first;
    first.incoming = {"TRK1", "a", status::in_transit, "Lima", base_time, base_time, {},
                      {},     {},  base_time + day};
    auto created = core::decide(std::nullopt, std::nullopt, first, policy);
    ASSERT_TRUE(created);
    EXPECT_EQ(created->state.estimated_delivery, base_time + day);
    core::submission scan = first;
    scan.incoming.event_id = "b";
    scan.incoming.timestamp = base_time + 10;
    scan.incoming.estimated_delivery.reset();
    auto kept = core::decide(created->state, std::nullopt, scan, policy);
    EXPECT_EQ(kept->state.estimated_delivery, base_time + day);
    core::submission delivered = scan;
    delivered.incoming.event_id = "c";
    delivered.incoming.timestamp = base_time + 20;
    delivered.incoming.state = status::delivered;
    delivered.incoming.estimated_delivery = base_time + 2 * day;  // even when it carries one
    EXPECT_FALSE(core::decide(kept->state, std::nullopt, delivered, policy)->state.estimated_delivery);
}

TEST(BatchCodec, DecodesItemsOnTheirOwnAndRefusesBadBodies) {
    const auto ok = api::decode_batch(
        R"({"events":[{"tracking_id":"T1","location":"L","status":"IN_TRANSIT","estimated_delivery":"2026-01-02T03:04:05Z"},)"
        R"( 7, {"tracking_id":"T1","bogus":1}, {"estimated_delivery":"soon"}]})");
    ASSERT_TRUE(ok);
    const auto& items = ok->items;
    ASSERT_EQ(items.size(), 4U);
    ASSERT_TRUE(items[0]);
    EXPECT_TRUE(items[0]->estimated_delivery);
    EXPECT_TRUE(has_detail(items[1].error(), "event", "type:object"));
    ASSERT_TRUE(items[2]);  // an unknown field is ignored and named, as in a single POST
    EXPECT_EQ(items[2]->ignored_fields, std::vector<std::string>{"bogus"});
    EXPECT_TRUE(has_detail(items[3].error(), "estimated_delivery", "format:rfc3339"));

    const auto code = [](std::string_view body) { return api::decode_batch(body).error().code; };
    EXPECT_EQ(code("[]"), errc::invalid_argument);
    EXPECT_EQ(code("{"), errc::invalid_argument);
    EXPECT_EQ(code(R"({"events":{}})"), errc::invalid_argument);
    EXPECT_EQ(code(R"({"events":[]})"), errc::unprocessable);
    std::string big = R"({"events":[)";
    for (int i = 0; i < 501; ++i) big += i ? ",{}" : "{}";
    big += "]}";
    EXPECT_EQ(code(big), errc::payload_too_large);
}

TEST(Cursor, RoundTripsAndRefusesAnythingElse) {
    const core::package_cursor c{1795802531315, "TRK-00_2"};
    const auto text = api::encode_cursor(c);
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(api::decode_cursor(text), c);
    for (const std::string& bad :
         {std::string(), text + "=", text.substr(1), std::string("djEuMTIz"),  // "v1.123"
          std::string("djIuMTIzLlRSSzAwMQ"),                                   // "v2.123.TRK001"
          std::string("djEuLTEuVFJLMDAx"),                                     // "v1.-1.TRK001"
          std::string("djEuMTIzLnRyazAwMQ"),                                   // lower-case id
          std::string(200, 'A')}) {
        EXPECT_FALSE(api::decode_cursor(bad)) << bad;
    }
}

TEST(Router, OperationsRoutesWithAndWithoutStage) {
    EXPECT_EQ(api::match_route("/tracking/batch").id, api::route_id::tracking_batch);
    EXPECT_EQ(api::match_route("/dev/tracking/batch").id, api::route_id::tracking_batch);
    EXPECT_EQ(api::match_route("/packages").id, api::route_id::packages);
    EXPECT_EQ(api::match_route("/prod/packages/").id, api::route_id::packages);
    EXPECT_EQ(api::match_route("/packages/health").id, api::route_id::unmatched);
    EXPECT_EQ(api::match_route("/tracking/batch/x").id, api::route_id::unmatched);
}

TEST(CsvReader, SplitsQuotedCellsAndRefusesBrokenQuoting) {
    EXPECT_EQ(cli::split_csv_record(R"(a,"b,c","say ""hi""",,"multi
line")"),
              (std::vector<std::string>{"a", "b,c", "say \"hi\"", "", "multi\nline"}));
    EXPECT_EQ(cli::split_csv_record(""), (std::vector<std::string>{""}));
    EXPECT_FALSE(cli::split_csv_record(R"(a,b"c)"));
    EXPECT_FALSE(cli::split_csv_record(R"("a"b,c)"));
    EXPECT_FALSE(cli::split_csv_record(R"("open)"));
}

TEST(CsvReader, MapsColumnsByHeaderAndNumbersRowsByLine) {
    std::istringstream in(
        "\xEF\xBB\xBFStatus,tracking_id,location,timestamp,latitude,longitude\r\n"
        "IN_TRANSIT,TRK1,\"Lima,\nPeru\",1795969100,-12.5,-77\r\n"
        "\r\n"
        "IN_TRANSIT,TRK2,Lima,yesterday,north,\r\n");
    cli::event_reader reader(in, cli::file_format::csv);
    ASSERT_FALSE(reader.open());
    auto row = reader.next();
    ASSERT_TRUE(row);
    EXPECT_EQ(row->line, 2U);
    ASSERT_TRUE(row->input);
    EXPECT_EQ(row->input->location, "Lima,\nPeru");
    EXPECT_EQ(row->input->timestamp, 1795969100000);
    EXPECT_EQ(row->input->latitude, -12.5);
    row = reader.next();
    ASSERT_TRUE(row);
    EXPECT_EQ(row->line, 5U);
    ASSERT_FALSE(row->input);
    EXPECT_TRUE(has_detail(row->input.error(), "timestamp", "format:rfc3339"));
    EXPECT_TRUE(has_detail(row->input.error(), "latitude", "type:number"));
    EXPECT_FALSE(reader.next());

    // A stray quote ends its record at 64 KiB instead of taking the rest of the file.
    std::string stray = "tracking_id,status,location\nTRK1,IN_TRANSIT,\"Lima\n";
    for (int i = 0; i < 5000; ++i) stray += "TRK2,IN_TRANSIT,Lima\n";
    std::istringstream stray_in(stray);
    cli::event_reader r3(stray_in, cli::file_format::csv);
    ASSERT_FALSE(r3.open());
    const auto broken = r3.next();
    ASSERT_TRUE(broken);
    EXPECT_TRUE(has_detail(broken->input.error(), "row", "csv"));
    std::size_t after = 0;
    while (auto r = r3.next()) after += r->input.has_value();
    EXPECT_GT(after, 0U);

    std::istringstream no_location("tracking_id,status\n");
    cli::event_reader r2(no_location, cli::file_format::csv);
    EXPECT_TRUE(r2.open());
    EXPECT_EQ(cli::format_of_path("x/Events.CSV"), cli::file_format::csv);
    EXPECT_EQ(cli::format_of_path("a.ndjson"), cli::file_format::jsonl);
    EXPECT_FALSE(cli::format_of_path("a.json"));
}

TEST(RecordBatch, PutsValidationErrorsAndStoreAnswersBackInPlace) {
    store::memory_store store;
    testing::manual_clock clock;
    testing::sequence_ids ids;
    core::tracking_service service(store, clock, ids);
    auto bad = input("TRK002");
    bad.status = "LOST";
    auto dup = input("TRK001");
    dup.event_id = "x";
    auto first = dup;
    std::promise<std::vector<core::result<core::append_outcome>>> p;
    service.record_batch(
        {first, bad, dup, input("TRK003")},
        [&](std::vector<core::result<core::append_outcome>> r) { p.set_value(std::move(r)); });
    const auto r = p.get_future().get();
    ASSERT_EQ(r.size(), 4U);
    EXPECT_EQ(r[0]->kind, core::outcome_kind::created);
    EXPECT_EQ(r[1].error().code, errc::unprocessable);
    EXPECT_EQ(r[2]->kind, core::outcome_kind::replay);
    EXPECT_EQ(r[3]->stored.tracking_id, "TRK003");
}

}  // namespace
}  // namespace dinex

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/json_codec.hpp"

namespace dinex {
namespace {

namespace json = boost::json;

bool has_detail(const core::error& e, std::string_view field, std::string_view rule) {
    for (const auto& d : e.details) {
        if (d.field == field && d.rule.starts_with(rule)) return true;
    }
    return false;
}

TEST(DecodeEvent, TheOriginalBody) {
    const auto in =
        api::decode_event_input(R"({"tracking_id":"TRK001","location":"Lima","status":"IN_TRANSIT"})");
    ASSERT_TRUE(in);
    EXPECT_EQ(in->tracking_id, "TRK001");
    EXPECT_EQ(in->location, "Lima");
    EXPECT_EQ(in->status, "IN_TRANSIT");
    EXPECT_FALSE(in->timestamp);
}

TEST(DecodeEvent, AllOptionalFields) {
    const auto in = api::decode_event_input(
        R"({"tracking_id":"T1X","location":"Lima","status":"PICKED_UP","latitude":-12.5,"longitude":-77,
            "notes":"Frágil","description":"Picked up","event_id":"e-1","timestamp":"2025-11-29T08:00:00Z"})");
    ASSERT_TRUE(in);
    EXPECT_EQ(in->latitude, -12.5);
    EXPECT_EQ(in->longitude, -77.0);
    EXPECT_EQ(in->notes, "Frágil");
    EXPECT_EQ(in->timestamp, 1'764'403'200'000);
}

TEST(DecodeEvent, EpochSecondsTimestampAsTheOriginalAnswered) {
    EXPECT_EQ(api::decode_event_input(R"({"timestamp":1764403200})")->timestamp, 1'764'403'200'000);
    EXPECT_TRUE(has_detail(api::decode_event_input(R"({"timestamp":-5})").error(), "timestamp", "range"));
}

TEST(DecodeEvent, NullOptionalsAreAbsent) {
    const auto in = api::decode_event_input(R"({"notes":null,"latitude":null,"timestamp":null})");
    ASSERT_TRUE(in);
    EXPECT_FALSE(in->notes);
    EXPECT_FALSE(in->latitude);
}

TEST(DecodeEvent, MalformedAndNonObjectBodies) {
    for (const char* bad : {"", "{", "not json", R"({"a":1,})", "{\"a\":\"\xff\"}"}) {
        const auto r = api::decode_event_input(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::errc::invalid_argument);
        EXPECT_TRUE(has_detail(r.error(), "body", "json")) << bad;
    }
    for (const char* bad : {"[]", "\"x\"", "42", "null"}) {
        EXPECT_TRUE(has_detail(api::decode_event_input(bad).error(), "body", "type:object")) << bad;
    }
}

TEST(DecodeEvent, WrongTypesAreNamed) {
    const auto r = api::decode_event_input(
        R"({"tracking_id":42,"location":["x"],"status":null,"latitude":"1","extra":true,"timestamp":"yesterday"})");
    ASSERT_FALSE(r);
    const auto& e = r.error();
    EXPECT_TRUE(has_detail(e, "tracking_id", "type:string"));
    EXPECT_TRUE(has_detail(e, "location", "type:string"));
    EXPECT_TRUE(has_detail(e, "status", "type:string"));
    EXPECT_TRUE(has_detail(e, "latitude", "type:number"));
    EXPECT_TRUE(has_detail(e, "timestamp", "format:rfc3339"));
    EXPECT_EQ(e.details.size(), 5U);  // "extra" is no error
}

// The original ignored fields it did not know (its own tests send package_id): so do we, and name
// them — a few, each cut short, however many the body has.
TEST(DecodeEvent, UnknownFieldsAreIgnoredAndNamed) {
    const auto r = api::decode_event_input(
        R"({"tracking_id":"TRK1","location":"Lima","package_id":"P-9","extra":{"a":1}})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->ignored_fields, (std::vector<std::string>{"package_id", "extra"}));
    std::string many = R"({"tracking_id":"TRK1")";
    for (int i = 0; i < 500; ++i)
        many += ",\"" + std::string(100, 'k') + std::to_string(i) + "\":" + std::to_string(i);
    many += "}";
    const auto lots = api::decode_event_input(many);
    ASSERT_TRUE(lots) << lots.error().internal_message;
    EXPECT_EQ(lots->ignored_fields.size(), api::ignored_fields_listed);
    for (const auto& name : lots->ignored_fields) EXPECT_EQ(name.size(), api::ignored_field_name_max);
}

TEST(DecodeEvent, DeepNestingIsRefused) {
    std::string deep(100, '[');
    deep += std::string(100, ']');
    EXPECT_FALSE(api::decode_event_input("{\"notes\":" + deep + "}"));
}

core::package sample_package() {
    core::package p;
    p.state.tracking_id = "TRK001";
    p.state.state = core::status::in_transit;
    p.state.location = "Lima";
    p.state.timestamp = 1'764'403'200'500;
    p.state.event_id = "e2";
    p.state.created_at = p.state.updated_at = 1'764'403'200'600;
    p.state.expires_at = p.state.updated_at + 1000;
    p.state.event_count = 1;
    core::event e;
    e.tracking_id = "TRK001";
    e.event_id = "e2";
    e.state = core::status::in_transit;
    e.location = "Lima";
    e.timestamp = p.state.timestamp;
    e.received_at = p.state.created_at;
    e.description = "Left the hub";
    p.events.push_back(e);
    return p;
}

TEST(EncodePackage, KeepsTheOriginalFieldsAndAddsHistory) {
    const auto v = json::parse(api::encode_package(sample_package())).as_object();
    EXPECT_EQ(v.at("tracking_id"), "TRK001");
    EXPECT_EQ(v.at("status"), "IN_TRANSIT");
    EXPECT_EQ(v.at("location"), "Lima");
    EXPECT_TRUE(v.at("latitude").is_null());
    EXPECT_TRUE(v.at("longitude").is_null());
    EXPECT_TRUE(v.at("notes").is_null());
    EXPECT_EQ(v.at("timestamp").as_int64(), 1'764'403'200);  // epoch seconds, as the original
    EXPECT_EQ(v.at("created_at"), "2025-11-29T08:00:00.600Z");
    const auto& ev = v.at("events").as_array().at(0).as_object();
    EXPECT_EQ(ev.at("timestamp"), "2025-11-29T08:00:00.500Z");
    EXPECT_EQ(ev.at("description"), "Left the hub");
    EXPECT_FALSE(ev.contains("notes"));
}

TEST(EncodeError, HasTheDocumentedShape) {
    const auto v = json::parse(api::encode_error(
        core::error::field(core::errc::unprocessable, "bad", "status", "one_of:X"), "req-1"));
    EXPECT_EQ(v.at("code"), "unprocessable_entity");
    EXPECT_EQ(v.at("error"), "bad");
    EXPECT_EQ(v.at("details").at(0).at("field"), "status");
    EXPECT_EQ(v.at("details").at(0).at("rule"), "one_of:X");
    EXPECT_EQ(v.at("request_id"), "req-1");
}

}  // namespace
}  // namespace dinex

namespace dinex {
namespace {

TEST(EncodePackage, PrintsCoordinatesAsPlainDecimalsLikeTheOriginal) {
    auto p = sample_package();
    p.state.coordinates = core::position{-13.5, 5};
    p.events[0].coordinates = core::position{-12.046374, -77.042793};
    const std::string body = api::encode_package(p);
    EXPECT_NE(body.find(R"("latitude":-13.5,"longitude":5,)"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("latitude":-12.046374,"longitude":-77.042793)"), std::string::npos) << body;
}

TEST(EncodeError, EscapesControlCharactersAndQuotes) {
    const auto text = api::encode_error(core::error::make(core::errc::internal, "a\"b\\c\n\x01"), "r");
    EXPECT_EQ(json::parse(text).at("error"), "a\"b\\c\n\x01");
}

// Found by tests/fuzz/fuzz_query_router: "GET /nope\xff" answered a 404 whose message echoed the
// raw byte, so the body was not UTF-8 and no JSON parser would read it.
TEST(EncodeError, MalformedUtf8BecomesReplacementCharacters) {
    const std::string bad = "no route for /\xff\xc0\xaf-\xed\xa0\x80-\xf4\x90\x80\x80-\xe2\x82";
    const auto text = api::encode_error(core::error::make(core::errc::not_found, bad), "r");
    json::error_code ec;
    const auto doc = json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    // Each byte that starts no well-formed sequence is one U+FFFD; well-formed text is kept.
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(std::string_view(doc.at("error").as_string()),
              "no route for /" + r + r + r + "-" + r + r + r + "-" + r + r + r + r + "-" + r + r);
    const auto ok =
        api::encode_error(core::error::make(core::errc::not_found, "Ñuñoa \xf0\x9f\x9a\x9a"), "r");
    EXPECT_EQ(json::parse(ok).at("error"), "Ñuñoa \xf0\x9f\x9a\x9a");
}

}  // namespace
}  // namespace dinex

// The one JSON string escaper (src/text) and the lines written with it: a log line and an EMF
// document carrying invalid UTF-8 and control characters are still one valid JSON object each
// (Loki and CloudWatch drop a line that is not).
#include <gtest/gtest.h>

#include <unistd.h>
#include <boost/json.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "obs/emf.hpp"
#include "obs/log.hpp"
#include "text/json_string.hpp"

namespace dinex {
namespace {

namespace json = boost::json;

// Not UTF-8: a lone continuation byte, 0xFF, an overlong '/', a UTF-16 surrogate, a cut sequence.
const std::string hostile = std::string("GET /p\x80q\xFF \xC0\xAF \xED\xA0\x80 tab\there nul") + '\0' +
                            "\x01\x1F\x7F quote\" back\\slash new\nline \xE2\x82";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

std::string read_all(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buf[4096];
    while (const auto n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    return out;
}

std::string escaped(std::string_view s) {
    std::string out;
    text::append_json_escaped(out, s);
    return out;
}

TEST(JsonString, EscapesWhatJsonRequiresAndKeepsWellFormedUtf8) {
    EXPECT_EQ(escaped("plain text"), "plain text");
    EXPECT_EQ(escaped("a\"b\\c\nd\re\tf"), "a\\\"b\\\\c\\nd\\re\\tf");
    EXPECT_EQ(escaped(std::string("\0\x01\x1F\x7F", 4)), "\\u0000\\u0001\\u001f\x7F");
    EXPECT_EQ(escaped("Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(escaped(""), "");
}

TEST(JsonString, EachByteThatStartsNoSequenceBecomesOneReplacementCharacter) {
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(escaped("\x80"), fffd);                                   // stray continuation byte
    EXPECT_EQ(escaped("\xC0\xAF"), fffd + fffd);                        // overlong '/'
    EXPECT_EQ(escaped("\xED\xA0\x80"), fffd + fffd + fffd);             // surrogate U+D800
    EXPECT_EQ(escaped("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
    EXPECT_EQ(escaped("ok\xE2\x82"), "ok" + fffd + fffd);               // cut short at the end
    EXPECT_EQ(escaped("\xFF\"x"), fffd + "\\\"x");
}

TEST(JsonString, ValidUtf8) {
    EXPECT_TRUE(text::valid_utf8(""));
    EXPECT_TRUE(text::valid_utf8("Z\xC3\xBCrich \xF0\x9F\x98\x80"));
    EXPECT_FALSE(text::valid_utf8("\x89PNG"));
    EXPECT_FALSE(text::valid_utf8("ok\xE2\x82"));
    EXPECT_FALSE(text::valid_utf8("\xED\xA0\x80"));
}

TEST(LogLines, InvalidUtf8AndControlCharactersStillMakeOneValidJsonObjectPerLine) {
    std::FILE* sink = std::tmpfile();
    {
        obs::logger log{obs::level::info, ::fileno(sink), 10};
        log.log(obs::level::warn, hostile, {{"path", std::string_view(hostile)}, {"n", std::int64_t{7}}});
        log.access({"req-1", "GET", hostile, 404, 1.5, "203.0.113.9", 0, 10, hostile});
        log.flush();
    }
    const auto lines = lines_of(read_all(sink));
    std::fclose(sink);
    ASSERT_EQ(lines.size(), 2U);
    for (const auto& line : lines) {
        boost::system::error_code ec;
        const auto v = json::parse(line, ec);  // Boost.JSON refuses invalid UTF-8, as Loki does
        ASSERT_FALSE(ec) << ec.message() << ": " << line;
        ASSERT_TRUE(v.is_object()) << line;
        EXPECT_EQ(line.find('\t'), std::string::npos) << "control characters are escaped";
    }
    const auto first = json::parse(lines[0]).as_object();
    const std::string msg(first.at("msg").as_string());
    // Every byte that starts no well-formed sequence is one U+FFFD; the rest is kept as it was.
    EXPECT_EQ(
        msg,
        std::string(
            "GET /p\xEF\xBF\xBDq\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
            "tab\there nul") +
            '\0' + "\x01\x1F\x7F quote\" back\\slash new\nline \xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(first.at("path").as_string(), msg);
    EXPECT_EQ(first.at("n").as_int64(), 7);
}

TEST(EmfLines, InvalidUtf8InADimensionOrAnAccessFieldStillMakesValidJson) {
    const obs::emf::access_fields access{.request_id = hostile,
                                         .method = hostile,
                                         .route = "/tracking",
                                         .bytes_in = 0,
                                         .bytes_out = 0,
                                         .note = hostile};
    const auto doc = obs::emf::invocation_lines(hostile, 1'764'432'000'123, 500, 2.0, &access, {});
    boost::system::error_code ec;
    const auto v = json::parse(doc, ec);
    ASSERT_FALSE(ec) << ec.message() << ": " << doc;
    EXPECT_TRUE(v.as_object().contains("Environment"));
    EXPECT_TRUE(v.as_object().contains("note"));
}

}  // namespace
}  // namespace dinex

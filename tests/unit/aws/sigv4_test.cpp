// The signer is right when it reproduces the AWS SigV4 test suite (tests/data/aws-sigv4-test-suite,
// header form) case by case; the direct tests below pin down what the suite leaves open.
#include "aws/sigv4.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace dinex::aws;

const fs::path vectors_dir{DINEX_SIGV4_VECTORS};
constexpr std::size_t expected_case_count = 38;

std::string read_text(const fs::path& file) {
    std::ifstream in{file, std::ios::binary};
    if (!in) throw std::runtime_error("cannot open " + file.string());
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

std::vector<std::string> list_cases() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator{vectors_dir, ec}) {
        if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
            names.push_back(entry.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

struct vector_case {
    signing_request request;
    std::string body;  // request.payload must be pointed here once the case is in its final place
    credentials creds;
    std::string region;
    std::string service;
    std::chrono::sys_seconds time{};
    signing_options options;
};

std::string_view next_line(std::string_view text, std::size_t& pos) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end == text.size() ? end : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// request.txt: "METHOD target HTTP/1.1", header lines (an indented line continues the previous
// value), a blank line, then the body byte for byte. The target may contain raw spaces
// (get-space-*), so it is everything between the first and the last space.
void parse_request(std::string_view text, vector_case& out) {
    std::size_t pos = 0;
    const std::string_view request_line = next_line(text, pos);
    const std::size_t first_space = request_line.find(' ');
    const std::size_t last_space = request_line.rfind(' ');
    if (first_space == std::string_view::npos || last_space <= first_space) {
        throw std::runtime_error("bad request line");
    }
    out.request.method = std::string{request_line.substr(0, first_space)};
    const std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
    const std::size_t question = target.find('?');
    out.request.path = std::string{target.substr(0, question)};
    if (question != std::string_view::npos) out.request.query = std::string{target.substr(question + 1)};

    while (pos < text.size()) {
        const std::string_view line = next_line(text, pos);
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') {
            if (out.request.headers.empty()) throw std::runtime_error("continuation without header");
            // Kept folded on purpose: unfolding is the signer's job.
            out.request.headers.back().second += '\n';
            out.request.headers.back().second += line;
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
        out.request.headers.emplace_back(std::string{line.substr(0, colon)},
                                         std::string{line.substr(colon + 1)});
    }
    out.body = std::string{text.substr(pos)};
}

int number(std::string_view s, std::size_t pos, std::size_t len) {
    int value = 0;
    const auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, value);
    if (ec != std::errc{} || ptr != s.data() + pos + len) throw std::runtime_error("bad number");
    return value;
}

// "2015-08-30T12:36:00Z"
std::chrono::sys_seconds parse_timestamp(std::string_view s) {
    using namespace std::chrono;
    if (s.size() != 20 || s[10] != 'T' || s[19] != 'Z') throw std::runtime_error("bad timestamp");
    const year_month_day ymd{year{number(s, 0, 4)}, month{static_cast<unsigned>(number(s, 5, 2))},
                             day{static_cast<unsigned>(number(s, 8, 2))}};
    return sys_days{ymd} + hours{number(s, 11, 2)} + minutes{number(s, 14, 2)} + seconds{number(s, 17, 2)};
}

void parse_context(std::string_view text, vector_case& out) {
    const json::object context = json::parse(text).as_object();
    const json::object& creds = context.at("credentials").as_object();
    out.creds.access_key_id = json::value_to<std::string>(creds.at("access_key_id"));
    out.creds.secret_access_key = json::value_to<std::string>(creds.at("secret_access_key"));
    if (const auto* token = creds.if_contains("token")) {
        out.creds.session_token = json::value_to<std::string>(*token);
    }
    out.region = json::value_to<std::string>(context.at("region"));
    out.service = json::value_to<std::string>(context.at("service"));
    out.time = parse_timestamp(context.at("timestamp").as_string());
    out.options.normalize_path = context.at("normalize").as_bool();
    out.options.add_content_sha256 = context.at("sign_body").as_bool();
    // The suite has no S3 case, but if it gains one it must be signed the S3 way.
    out.options.double_encode_path = out.service != "s3";
    if (const auto* omit = context.if_contains("omit_session_token")) {
        out.options.sign_session_token = !omit->as_bool();
    }
}

vector_case load_case(const fs::path& dir) {
    vector_case c;
    parse_request(read_text(dir / "request.txt"), c);
    parse_context(read_text(dir / "context.json"), c);
    return c;
}

signing_result sign_case(const vector_case& c) {
    return sign(c.request, c.creds, c.region, c.service, c.time, c.options);
}

std::string lower(std::string s) {
    for (char& ch : s) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    return s;
}

// Header lines of header-signed-request.txt with lower-cased names, for order-free comparison.
std::vector<std::string> signed_request_header_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    next_line(text, pos);
    while (pos < text.size()) {
        const std::string_view line = next_line(text, pos);
        if (line.empty()) break;
        if ((line.front() == ' ' || line.front() == '\t') && !lines.empty()) {
            lines.back() += '\n';
            lines.back() += line;
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
        lines.push_back(lower(std::string{line.substr(0, colon)}) + std::string{line.substr(colon)});
    }
    return lines;
}

class sigv4_vector : public ::testing::TestWithParam<std::string> {};

TEST_P(sigv4_vector, matches_header_signing_results) {
    const fs::path dir = vectors_dir / GetParam();
    vector_case c = load_case(dir);
    c.request.payload = c.body;

    const signing_result result = sign_case(c);

    EXPECT_EQ(result.canonical_request, read_text(dir / "header-canonical-request.txt"));
    EXPECT_EQ(result.string_to_sign, read_text(dir / "header-string-to-sign.txt"));
    EXPECT_EQ(result.signature, read_text(dir / "header-signature.txt"));

    // Every header we tell the caller to add, Authorization included, is in the signed request.
    const auto expected_lines = signed_request_header_lines(read_text(dir / "header-signed-request.txt"));
    for (const auto& [name, value] : result.headers_to_add) {
        const std::string line = lower(name) + ":" + value;
        EXPECT_NE(std::find(expected_lines.begin(), expected_lines.end(), line), expected_lines.end())
            << line;
    }
}

// A named function, not a lambda: INSTANTIATE_TEST_SUITE_P names its own parameter "info", and a
// lambda parameter of that name trips -Wshadow.
std::string case_test_name(const ::testing::TestParamInfo<std::string>& param) {
    std::string name = param.param;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(aws_suite, sigv4_vector, ::testing::ValuesIn(list_cases()), case_test_name);

// Without this, a wrong or empty vectors directory would make the suite pass by running nothing.
TEST(sigv4_vectors, all_cases_are_found) {
    EXPECT_EQ(list_cases().size(), expected_case_count) << "in " << vectors_dir;
}

// get-vanilla, reused by the direct tests.
signing_request vanilla_request() {
    signing_request r;
    r.method = "GET";
    r.path = "/";
    r.headers = {{"Host", "example.amazonaws.com"}};
    return r;
}

const credentials example_creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

std::chrono::sys_seconds example_time() {
    using namespace std::chrono;
    return sys_days{2015y / August / 30} + hours{12} + minutes{36};
}

std::string canonical_uri_line(const signing_result& r) {
    const std::size_t start = r.canonical_request.find('\n') + 1;
    return r.canonical_request.substr(start, r.canonical_request.find('\n', start) - start);
}

std::string canonical_query_line(const signing_result& r) {
    std::size_t start = r.canonical_request.find('\n') + 1;
    start = r.canonical_request.find('\n', start) + 1;
    return r.canonical_request.substr(start, r.canonical_request.find('\n', start) - start);
}

TEST(sigv4_sign, wrong_secret_gives_a_different_signature) {
    const auto good = sign(vanilla_request(), example_creds, "us-east-1", "service", example_time());
    credentials wrong = example_creds;
    wrong.secret_access_key.back() = 'X';
    const auto bad = sign(vanilla_request(), wrong, "us-east-1", "service", example_time());

    EXPECT_EQ(good.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    EXPECT_EQ(bad.canonical_request, good.canonical_request);
    EXPECT_NE(bad.signature, good.signature);
}

TEST(sigv4_sign, session_token_header_is_added_and_signed) {
    credentials with_token = example_creds;
    with_token.session_token = "token-value";
    const auto r = sign(vanilla_request(), with_token, "us-east-1", "service", example_time());

    EXPECT_NE(std::find(r.headers_to_add.begin(), r.headers_to_add.end(),
                        std::pair<std::string, std::string>{"X-Amz-Security-Token", "token-value"}),
              r.headers_to_add.end());
    EXPECT_NE(r.canonical_request.find("\nx-amz-security-token:token-value\n"), std::string::npos);
    EXPECT_NE(r.authorization.find("SignedHeaders=host;x-amz-date;x-amz-security-token,"), std::string::npos);

    signing_options unsigned_token;
    unsigned_token.sign_session_token = false;
    const auto u =
        sign(vanilla_request(), with_token, "us-east-1", "service", example_time(), unsigned_token);
    EXPECT_EQ(u.canonical_request.find("x-amz-security-token"), std::string::npos);
    EXPECT_EQ(u.headers_to_add.size(), r.headers_to_add.size());
}

TEST(sigv4_sign, added_headers_and_authorization_have_the_documented_form) {
    const auto r = sign(vanilla_request(), example_creds, "us-east-1", "service", example_time());
    ASSERT_EQ(r.headers_to_add.size(), 2u);
    EXPECT_EQ(r.headers_to_add[0].first, "X-Amz-Date");
    EXPECT_EQ(r.headers_to_add[0].second, "20150830T123600Z");
    EXPECT_EQ(r.headers_to_add[1].first, "Authorization");
    EXPECT_EQ(r.headers_to_add[1].second, r.authorization);
    EXPECT_EQ(r.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// The AWS example: "/documents and settings/" goes on the wire as %20 and is signed as %2520.
TEST(sigv4_sign, path_with_spaces_and_unicode_is_double_encoded_except_for_s3) {
    const std::string wire_path = "/documents%20and%20settings/%E1%88%B4";  // U+1234
    const std::string raw_path = "/documents and settings/\xE1\x88\xB4";

    signing_request r = vanilla_request();
    r.path = wire_path;
    EXPECT_EQ(canonical_uri_line(sign(r, example_creds, "us-east-1", "sns", example_time())),
              "/documents%2520and%2520settings/%25E1%2588%25B4");
    // Raw bytes are encoded once more, like the suite's get-space-* and get-utf8.
    r.path = raw_path;
    EXPECT_EQ(canonical_uri_line(sign(r, example_creds, "us-east-1", "sns", example_time())),
              "/documents%20and%20settings/%E1%88%B4");

    signing_options s3;
    s3.normalize_path = false;
    s3.double_encode_path = false;
    for (const std::string& path : {wire_path, raw_path}) {
        r.path = path;
        EXPECT_EQ(canonical_uri_line(sign(r, example_creds, "us-east-1", "s3", example_time(), s3)),
                  "/documents%20and%20settings/%E1%88%B4")
            << path;
    }
    r.path = "/bucket/a/./b//c";
    EXPECT_EQ(canonical_uri_line(sign(r, example_creds, "us-east-1", "s3", example_time(), s3)),
              "/bucket/a/./b//c");
}

TEST(sigv4_sign, path_normalization_follows_rfc_3986) {
    signing_request r = vanilla_request();
    const auto uri = [&](std::string path) {
        r.path = std::move(path);
        return canonical_uri_line(sign(r, example_creds, "us-east-1", "service", example_time()));
    };
    EXPECT_EQ(uri(""), "/");
    EXPECT_EQ(uri("/a/b/../c/./d"), "/a/c/d");
    EXPECT_EQ(uri("/a/b/.."), "/a/");
    EXPECT_EQ(uri("/../../a"), "/a");
    EXPECT_EQ(uri("//a///b/"), "/a/b/");
}

TEST(sigv4_sign, query_is_encoded_and_sorted_by_name_then_value) {
    signing_request r = vanilla_request();
    r.query = "b=2&a=x y&a=1&&c&plus=1+1&pct=%2f&bad=%zz";
    EXPECT_EQ(canonical_query_line(sign(r, example_creds, "us-east-1", "service", example_time())),
              "a=1&a=x%20y&b=2&bad=%25zz&c=&pct=%2F&plus=1%2B1");
}

TEST(sigv4_sign, caller_content_sha256_is_the_payload_hash) {
    signing_request r = vanilla_request();
    r.headers.emplace_back("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
    r.payload = "ignored";
    signing_options s3;
    s3.add_content_sha256 = true;
    const auto result = sign(r, example_creds, "us-east-1", "s3", example_time(), s3);
    EXPECT_TRUE(
        result.canonical_request.ends_with("\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"));
    EXPECT_EQ(result.headers_to_add.size(), 2u);  // X-Amz-Date and Authorization only
}

TEST(sigv4_sign, stale_computed_headers_are_replaced) {
    signing_request r = vanilla_request();
    r.headers.emplace_back("X-Amz-Date", "20000101T000000Z");
    r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 old");
    const auto result = sign(r, example_creds, "us-east-1", "service", example_time());
    EXPECT_EQ(result.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(sigv4_sign, missing_host_is_rejected) {
    signing_request r = vanilla_request();
    r.headers.clear();
    EXPECT_THROW((void)sign(r, example_creds, "us-east-1", "service", example_time()), std::invalid_argument);
}

// Found by tests/fuzz/fuzz_sigv4: a time tens of millions of years away wrapped around in the
// calendar conversion and was signed as year 9716 instead of being refused.
TEST(sigv4_sign, time_outside_years_0000_to_9999_is_rejected) {
    using namespace std::chrono;
    const auto at = [](long long secs) { return sys_seconds{seconds{secs}}; };
    const auto date = [&](long long secs) {
        return sign(vanilla_request(), example_creds, "us-east-1", "service", at(secs))
            .headers_to_add.front()
            .second;
    };
    EXPECT_EQ(date(-62'167'219'200), "00000101T000000Z");
    EXPECT_EQ(date(253'402'300'799), "99991231T235959Z");
    for (const long long secs : {-62'167'219'201LL, 253'402'300'800LL, 2'534'023'002'300'799LL}) {
        EXPECT_THROW((void)date(secs), std::out_of_range) << secs;
    }
}

TEST(sigv4_helpers, sha256_hex_and_uri_encode) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("Param1=value1"),
              "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    EXPECT_EQ(uri_encode("a b/c~-._*+=\xE1\x88\xB4", true), "a%20b%2Fc~-._%2A%2B%3D%E1%88%B4");
    EXPECT_EQ(uri_encode("a b/c", false), "a%20b/c");
    EXPECT_EQ(uri_encode("", true), "");
}

}  // namespace

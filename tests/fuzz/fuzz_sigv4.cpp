// fuzz_sigv4: the SigV4 canonicalizer. The input is text lines:
//   line 1: options — letters that turn things off/on: 'n' normalize_path=false,
//           'd' double_encode_path=false, 'c' add_content_sha256, 'u' sign_session_token=false,
//           't' credentials carry a session token; then optionally a number: the signing time in
//           epoch seconds (default 2015-08-30T12:36:00Z, the official vectors' time)
//   line 2: method   line 3: path   line 4: query (without '?')
//   then header lines "Name:value" up to an empty line; the rest is the payload.
// Checks (abort on violation):
//  - sign throws std::invalid_argument exactly when no Host header is given, std::out_of_range
//    only for a time outside years 0000-9999, and nothing else;
//  - deterministic: signing the same request twice gives identical results;
//  - the canonical request has the documented shape: the canonical URI and query use only
//    unreserved bytes and upper-case %XX, query pairs are sorted, header names are lower-case,
//    sorted and unique and match SignedHeaders; the signature is 64 lower-case hex digits and the
//    Authorization value names it; headers_to_add start with X-Amz-Date and end with Authorization;
//  - canonicalization is idempotent: signing again with the canonical query (and, for the S3 path
//    encoding, the canonical path) and the canonical headers gives the same canonical request.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.hpp"
#include "fuzz_support.hpp"

namespace {
using namespace dinex;

struct parsed {
    aws::signing_request request;
    aws::signing_options options;
    aws::credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    std::chrono::sys_seconds time{std::chrono::seconds{1440938160}};
    bool time_in_range = true;
};

std::string_view next_line(std::string_view& in) {
    const auto nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
}

parsed parse(std::string_view in) {
    parsed p;
    const std::string_view opts = next_line(in);
    for (const char c : opts) {
        if (c == 'n') p.options.normalize_path = false;
        if (c == 'd') p.options.double_encode_path = false;
        if (c == 'c') p.options.add_content_sha256 = true;
        if (c == 'u') p.options.sign_session_token = false;
        if (c == 't')
            p.creds.session_token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW";
    }
    if (const auto digit = opts.find_first_of("-0123456789"); digit != std::string_view::npos) {
        const std::string number(opts.substr(digit));
        const long long secs = std::strtoll(number.c_str(), nullptr, 10);
        p.time = std::chrono::sys_seconds{std::chrono::seconds{secs}};
        // 0000-01-01 and 9999-12-31T23:59:59 in epoch seconds.
        p.time_in_range = secs >= -62167219200LL && secs <= 253402300799LL;
    }
    p.request.method = std::string(next_line(in));
    p.request.path = std::string(next_line(in));
    p.request.query = std::string(next_line(in));
    while (!in.empty()) {
        const std::string_view line = next_line(in);
        if (line.empty()) break;
        const auto colon = line.find(':');
        p.request.headers.emplace_back(
            std::string(line.substr(0, colon)),
            colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1)));
    }
    p.request.payload = in;
    return p;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
}

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}
bool is_upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// Only unreserved bytes, `extra`, and %XX with upper-case hex.
bool encoded_form(std::string_view s, std::string_view extra) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size() || !is_upper_hex(s[i + 1]) || !is_upper_hex(s[i + 2])) return false;
            i += 2;
        } else if (!is_unreserved(s[i]) && extra.find(s[i]) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const auto end = s.find(sep, start);
        out.push_back(s.substr(start, end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

bool same(const aws::signing_result& a, const aws::signing_result& b) {
    return a.canonical_request == b.canonical_request && a.string_to_sign == b.string_to_sign &&
           a.signature == b.signature && a.authorization == b.authorization &&
           a.headers_to_add == b.headers_to_add;
}

// Checks the canonical request line by line; returns {canonical uri, canonical query, headers}.
struct canonical_parts {
    std::string uri, query;
    aws::header_list headers;
};

canonical_parts check_shape(const parsed& p, const aws::signing_result& r) {
    const std::string& c = r.canonical_request;
    const auto lines = split(c, '\n');
    // method, uri, query, headers..., "", signed headers, payload hash
    FUZZ_CHECK(lines.size() >= 7, c);
    FUZZ_CHECK(lines[0] == p.request.method, c);
    canonical_parts parts{std::string(lines[1]), std::string(lines[2]), {}};
    FUZZ_CHECK(!parts.uri.empty() && parts.uri.front() == '/' && encoded_form(parts.uri, "/"), c);
    if (!parts.query.empty()) {
        std::pair<std::string_view, std::string_view> previous;
        bool first = true;
        for (const auto pair : split(parts.query, '&')) {
            const auto eq = pair.find('=');
            FUZZ_CHECK(eq != std::string_view::npos, c);
            const std::pair<std::string_view, std::string_view> nv{pair.substr(0, eq), pair.substr(eq + 1)};
            FUZZ_CHECK(encoded_form(nv.first, "") && encoded_form(nv.second, ""), c);
            FUZZ_CHECK(first || previous <= nv, c);  // by name, then value (bytes of the encoded forms)
            previous = nv;
            first = false;
        }
    }
    const std::size_t n = lines.size();
    const std::string_view signed_headers = lines[n - 2];
    const std::string_view payload_hash = lines[n - 1];
    FUZZ_CHECK(lines[n - 3].empty(), c);
    std::vector<std::string> names;
    for (std::size_t i = 3; i + 3 < n; ++i) {
        const auto colon = lines[i].find(':');
        FUZZ_CHECK(colon != std::string_view::npos, c);
        const std::string name(lines[i].substr(0, colon));
        FUZZ_CHECK(name == lower(name), c);
        FUZZ_CHECK(names.empty() || names.back() < name, c);
        names.push_back(name);
        parts.headers.emplace_back(name, std::string(lines[i].substr(colon + 1)));
    }
    std::string joined;
    for (const auto& name : names) joined += (joined.empty() ? "" : ";") + name;
    FUZZ_CHECK(joined == signed_headers, c);
    FUZZ_CHECK(std::find(names.begin(), names.end(), "host") != names.end(), c);
    FUZZ_CHECK(std::find(names.begin(), names.end(), "x-amz-date") != names.end(), c);
    FUZZ_CHECK(std::find(names.begin(), names.end(), "authorization") == names.end(), c);
    (void)payload_hash;

    FUZZ_CHECK(r.signature.size() == 64, r.signature);
    for (const char ch : r.signature)
        FUZZ_CHECK((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'), r.signature);
    FUZZ_CHECK(r.authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), r.authorization);
    FUZZ_CHECK(r.authorization.ends_with(", SignedHeaders=" + std::string(signed_headers) +
                                         ", Signature=" + r.signature),
               r.authorization);
    FUZZ_CHECK(r.headers_to_add.size() >= 2, c);
    FUZZ_CHECK(r.headers_to_add.front().first == "X-Amz-Date", c);
    FUZZ_CHECK(
        r.headers_to_add.back() == (std::pair<std::string, std::string>{"Authorization", r.authorization}),
        c);
    FUZZ_CHECK(r.string_to_sign.ends_with(aws::sha256_hex(c)), r.string_to_sign);
    return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const parsed p = parse(input);
    bool has_host = false;
    for (const auto& [name, value] : p.request.headers) has_host = has_host || lower(name) == "host";

    aws::signing_result first;
    try {
        first = aws::sign(p.request, p.creds, "us-east-1", "service", p.time, p.options);
    } catch (const std::invalid_argument&) {
        FUZZ_CHECK(!has_host, "invalid_argument although Host was given");
        return 0;
    } catch (const std::out_of_range&) {
        FUZZ_CHECK(!p.time_in_range, "out_of_range for a time inside 0000-9999");
        return 0;
    }
    FUZZ_CHECK(has_host, "signed without a Host header");
    FUZZ_CHECK(p.time_in_range, "signed a time outside 0000-9999");

    const auto second = aws::sign(p.request, p.creds, "us-east-1", "service", p.time, p.options);
    FUZZ_CHECK(same(first, second), "two signatures of one request differ:\n" + first.canonical_request +
                                        "\n----\n" + second.canonical_request);

    // The canonical request is only line-structured when the method has no line break of its own.
    if (p.request.method.find('\n') != std::string::npos) return 0;
    const canonical_parts parts = check_shape(p, first);

    // Idempotence: the canonical forms sign the same way again.
    aws::signing_request again = p.request;
    again.query = parts.query;
    if (!p.options.double_encode_path) again.path = parts.uri;
    again.headers.clear();
    for (const auto& [name, value] : parts.headers) {
        if (name == "x-amz-date" || name == "x-amz-security-token") continue;  // sign() adds them
        if (name == "x-amz-content-sha256" && p.options.add_content_sha256 &&
            std::none_of(p.request.headers.begin(), p.request.headers.end(),
                         [](const auto& h) { return lower(h.first) == "x-amz-content-sha256"; })) {
            continue;  // added by sign(), not given
        }
        again.headers.emplace_back(name, value);
    }
    const auto resigned = aws::sign(again, p.creds, "us-east-1", "service", p.time, p.options);
    const auto lines_a = split(first.canonical_request, '\n');
    const auto lines_b = split(resigned.canonical_request, '\n');
    FUZZ_CHECK(lines_a.size() == lines_b.size(),
               first.canonical_request + "\n----\n" + resigned.canonical_request);
    for (std::size_t i = 0; i < lines_a.size(); ++i) {
        if (i == 1 && p.options.double_encode_path) continue;  // double encoding is not idempotent by design
        FUZZ_CHECK(lines_a[i] == lines_b[i],
                   first.canonical_request + "\n----\n" + resigned.canonical_request);
    }
    return 0;
}

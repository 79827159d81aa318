#include "aws/sigv4.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <span>
#include <stdexcept>

#include "crypto/crypto.hpp"

namespace dinex::aws {
namespace {

using digest = crypto::sha256_digest;
using crypto::as_view;
using crypto::hmac_sha256;

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view hex_upper = "0123456789ABCDEF";

// Headers that intermediaries add, rewrite or strip (hop-by-hop, proxies, X-Ray), plus
// Authorization itself when a request is re-signed: signing them would make the signature break in
// transit. The AWS SDKs leave the same ones out.
constexpr std::array<std::string_view, 5> unsigned_headers = {"authorization", "connection", "expect",
                                                              "user-agent", "x-amzn-trace-id"};

// Computed by sign(); a caller's stale copy must not be signed next to ours.
constexpr std::array<std::string_view, 2> computed_headers = {"x-amz-date", "x-amz-security-token"};

// The secret and the keys derived from it would otherwise linger in freed memory; wiping on every
// exit path, exceptions included, keeps the number of copies down to the caller's own.
class wipe_on_exit {
public:
    wipe_on_exit(void* p, std::size_t n) : bytes_{static_cast<unsigned char*>(p), n} {}
    wipe_on_exit(const wipe_on_exit&) = delete;
    wipe_on_exit& operator=(const wipe_on_exit&) = delete;
    ~wipe_on_exit() { crypto::wipe(bytes_); }

private:
    std::span<unsigned char> bytes_;
};

std::string signature_for(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service, std::string_view string_to_sign) {
    std::string k_secret = "AWS4";
    k_secret += secret;
    const wipe_on_exit wipe_secret{k_secret.data(), k_secret.size()};
    digest k_date = hmac_sha256(k_secret, date);
    const wipe_on_exit wipe_date{k_date.data(), k_date.size()};
    digest k_region = hmac_sha256(as_view(k_date), region);
    const wipe_on_exit wipe_region{k_region.data(), k_region.size()};
    digest k_service = hmac_sha256(as_view(k_region), service);
    const wipe_on_exit wipe_service{k_service.data(), k_service.size()};
    digest k_signing = hmac_sha256(as_view(k_service), "aws4_request");
    const wipe_on_exit wipe_signing{k_signing.data(), k_signing.size()};
    return crypto::hex(hmac_sha256(as_view(k_signing), string_to_sign));
}

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool is_escape_at(std::string_view s, std::size_t i) {
    return s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0;
}

void append_escape(std::string& out, char c) {
    const auto b = static_cast<unsigned char>(c);
    out += '%';
    out += hex_upper[b >> 4];
    out += hex_upper[b & 0x0F];
}

// A '%' not followed by two hex digits cannot be an escape, so it is taken literally (and will be
// re-encoded as %25) rather than rejected: the query is the caller's, not ours to refuse.
std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (is_escape_at(s, i)) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// S3 encodes its path once: an already-encoded key must come out unchanged and a raw one encoded.
// Existing escapes are kept (hex upper-cased, the canonical spelling); everything else is escaped.
std::string encode_path_once(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (is_escape_at(path, i)) {
            out += '%';
            out += hex_upper[static_cast<std::size_t>(hex_value(path[i + 1]))];
            out += hex_upper[static_cast<std::size_t>(hex_value(path[i + 2]))];
            i += 2;
        } else if (is_unreserved(c) || c == '/') {
            out += c;
        } else {
            append_escape(out, c);
        }
    }
    return out;
}

// RFC 3986 §5.2.4 remove_dot_segments, plus what AWS adds: empty segments ("//") are dropped.
// A final "." or ".." leaves a trailing slash, as in the RFC ("/a/b/.." is "/a/").
std::string normalize_path(std::string_view path) {
    std::vector<std::string_view> kept;
    bool trailing_slash = false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view segment = path.substr(start, end - start);
        const bool last = end == path.size();
        if (segment == "..") {
            if (!kept.empty()) kept.pop_back();
            trailing_slash = last;
        } else if (segment == "." || segment.empty()) {
            trailing_slash = last;
        } else {
            kept.push_back(segment);
            trailing_slash = false;
        }
        start = end + 1;
    }
    std::string out = "/";
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (i > 0) out += '/';
        out += kept[i];
    }
    if (trailing_slash && !kept.empty()) out += '/';
    return out;
}

std::string canonical_uri(std::string_view path, const signing_options& options) {
    std::string p = options.normalize_path ? normalize_path(path) : std::string{path};
    if (p.empty() || p.front() != '/') p.insert(p.begin(), '/');
    return options.double_encode_path ? uri_encode(p, false) : encode_path_once(p);
}

std::string canonical_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> params;
    std::size_t start = 0;
    while (start <= query.size()) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string_view pair = query.substr(start, end - start);
        if (!pair.empty()) {
            const std::size_t eq = pair.find('=');
            const std::string_view name = pair.substr(0, eq);
            const std::string_view value =
                eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
            params.emplace_back(uri_encode(percent_decode(name), true),
                                uri_encode(percent_decode(value), true));
        }
        start = end + 1;
    }
    // Byte order of the encoded forms, name first then value, is what AWS specifies.
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty()) out += '&';
        out += name;
        out += '=';
        out += value;
    }
    return out;
}

std::string to_lower_ascii(std::string_view s) {
    std::string out{s};
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Trims, collapses inner whitespace runs to one space and unfolds obsolete line folding
// (CRLF + indent), so a value signs the same however a proxy re-wraps it.
std::string canonical_header_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    for (const char c : value) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += c;
    }
    return out;
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

void append_digits(std::string& out, long value, int width) {
    std::string digits(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0 && value > 0; --i, value /= 10) {
        digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    }
    out += digits;
}

std::string format_amz_date(std::chrono::sys_seconds time) {
    using namespace std::chrono;
    // Checked on the time itself: the calendar conversion wraps around for times millions of
    // years away, which would otherwise pass as some year in range.
    constexpr sys_seconds first = sys_days{year{0} / January / 1};
    constexpr sys_seconds last = sys_days{year{9999} / December / 31} + days{1} - seconds{1};
    if (time < first || time > last) {
        throw std::out_of_range("SigV4 signing time outside years 0000-9999");
    }
    const auto day = floor<days>(time);
    const year_month_day ymd{day};
    const int year_number = static_cast<int>(ymd.year());
    const hh_mm_ss hms{time - day};
    std::string out;
    out.reserve(16);
    append_digits(out, year_number, 4);
    append_digits(out, static_cast<unsigned>(ymd.month()), 2);
    append_digits(out, static_cast<unsigned>(ymd.day()), 2);
    out += 'T';
    append_digits(out, hms.hours().count(), 2);
    append_digits(out, hms.minutes().count(), 2);
    append_digits(out, hms.seconds().count(), 2);
    out += 'Z';
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) { return crypto::hex(crypto::sha256(data)); }

std::string uri_encode(std::string_view input, bool encode_slash) {
    std::string out;
    out.reserve(input.size());
    for (const char c : input) {
        if (is_unreserved(c) || (c == '/' && !encode_slash)) {
            out += c;
        } else {
            append_escape(out, c);
        }
    }
    return out;
}

signing_result sign(const signing_request& request, const credentials& creds, std::string_view region,
                    std::string_view service, std::chrono::sys_seconds time, const signing_options& options) {
    const std::string amz_date = format_amz_date(time);
    const std::string_view date = std::string_view{amz_date}.substr(0, 8);

    // std::map gives the sorted order the canonical headers need; values of a repeated name are
    // joined in the order they were sent.
    std::map<std::string, std::string> headers;
    for (const auto& [raw_name, raw_value] : request.headers) {
        std::string name = to_lower_ascii(raw_name);
        if (contains(unsigned_headers, name) || contains(computed_headers, name)) continue;
        std::string value = canonical_header_value(raw_value);
        auto [it, inserted] = headers.try_emplace(std::move(name), value);
        if (!inserted) {
            it->second += ',';
            it->second += value;
        }
    }
    if (!headers.contains("host")) {
        throw std::invalid_argument("SigV4 requires a Host header in the signed request");
    }

    signing_result result;
    result.headers_to_add.emplace_back("X-Amz-Date", amz_date);
    headers.emplace("x-amz-date", amz_date);
    if (!creds.session_token.empty()) {
        result.headers_to_add.emplace_back("X-Amz-Security-Token", creds.session_token);
        if (options.sign_session_token) {
            headers.emplace("x-amz-security-token", canonical_header_value(creds.session_token));
        }
    }
    std::string payload_hash;
    if (const auto given = headers.find("x-amz-content-sha256"); given != headers.end()) {
        payload_hash = given->second;
    } else {
        payload_hash = sha256_hex(request.payload);
        if (options.add_content_sha256) {
            result.headers_to_add.emplace_back("X-Amz-Content-Sha256", payload_hash);
            headers.emplace("x-amz-content-sha256", payload_hash);
        }
    }

    std::string signed_headers;
    std::string canonical_headers;
    for (const auto& [name, value] : headers) {
        if (!signed_headers.empty()) signed_headers += ';';
        signed_headers += name;
        canonical_headers += name;
        canonical_headers += ':';
        canonical_headers += value;
        canonical_headers += '\n';
    }

    std::string& canonical = result.canonical_request;
    canonical += request.method;
    canonical += '\n';
    canonical += canonical_uri(request.path, options);
    canonical += '\n';
    canonical += canonical_query(request.query);
    canonical += '\n';
    canonical += canonical_headers;
    canonical += '\n';
    canonical += signed_headers;
    canonical += '\n';
    canonical += payload_hash;

    std::string scope{date};
    scope += '/';
    scope += region;
    scope += '/';
    scope += service;
    scope += "/aws4_request";

    std::string& to_sign = result.string_to_sign;
    to_sign += algorithm;
    to_sign += '\n';
    to_sign += amz_date;
    to_sign += '\n';
    to_sign += scope;
    to_sign += '\n';
    to_sign += sha256_hex(canonical);

    result.signature = signature_for(creds.secret_access_key, date, region, service, to_sign);

    std::string& authorization = result.authorization;
    authorization += algorithm;
    authorization += " Credential=";
    authorization += creds.access_key_id;
    authorization += '/';
    authorization += scope;
    authorization += ", SignedHeaders=";
    authorization += signed_headers;
    authorization += ", Signature=";
    authorization += result.signature;
    result.headers_to_add.emplace_back("Authorization", authorization);
    return result;
}

}  // namespace dinex::aws

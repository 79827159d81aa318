#pragma once
// A small streaming JSON writer for responses. Boost.JSON parses requests; answers are written
// here because they must print numbers as the original API did (-13.5, not Boost's -1.35E1) and
// because writing straight into one string is the fastest path on GET.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace dinex::api {

class json_writer {
public:
    explicit json_writer(std::size_t reserve = 512) { out_.reserve(reserve); }

    json_writer& begin_object() { return open('{'); }
    json_writer& end_object() { return close('}'); }
    json_writer& begin_array() { return open('['); }
    json_writer& end_array() { return close(']'); }

    json_writer& key(std::string_view k) {
        separate();
        quote(k);
        out_ += ':';
        after_key_ = true;
        return *this;
    }
    json_writer& value(std::string_view s) {
        separate();
        quote(s);
        return *this;
    }
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(const std::string& s) { return value(std::string_view(s)); }
    json_writer& value(std::int64_t n) {
        separate();
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, n);
        out_.append(buf, r.ptr);
        return *this;
    }
    json_writer& value(std::uint64_t n) {
        separate();
        char buf[24];
        const auto r = std::to_chars(buf, buf + sizeof buf, n);
        out_.append(buf, r.ptr);
        return *this;
    }
    // Shortest round-trip form in plain notation where that is short ("-13.5", "0.0001").
    json_writer& value(double d);
    json_writer& value(bool b) {
        separate();
        out_ += b ? "true" : "false";
        return *this;
    }
    json_writer& null() {
        separate();
        out_ += "null";
        return *this;
    }
    // A value that is already JSON (written by another encoder), inserted as it is.
    json_writer& raw(std::string_view json) {
        separate();
        out_ += json;
        return *this;
    }

    std::string take() { return std::move(out_); }

private:
    json_writer& open(char c) {
        separate();
        out_ += c;
        first_ = true;
        return *this;
    }
    json_writer& close(char c) {
        out_ += c;
        first_ = false;
        return *this;
    }
    void separate() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (!first_) out_ += ',';
        first_ = false;
    }
    void quote(std::string_view s);

    std::string out_;
    bool first_ = true;
    bool after_key_ = false;
};

}  // namespace dinex::api

#include "api/json_body.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace dinex::api {
namespace {

// Boost.JSON keeps the last of two equal keys without a word: "status" given twice would store
// whichever came last. Such a body is ambiguous and refused. One pass of the SAX parser collects
// each object's keys; they are sorted when the object closes (no quadratic search on a body of
// many keys).
struct duplicate_finder {
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    using string_view = boost::json::string_view;
    using error_code = boost::json::error_code;

    std::vector<std::vector<std::string>> open;  // the keys of each open object
    std::string key;
    std::optional<std::string> duplicate;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code&) {
        open.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, error_code& ec) {
        auto& keys = open.back();
        std::sort(keys.begin(), keys.end());
        if (const auto it = std::adjacent_find(keys.begin(), keys.end()); it != keys.end()) {
            duplicate = *it;
            ec = boost::json::error::syntax;
            return false;
        }
        open.pop_back();
        return true;
    }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t, error_code&) { return true; }
    bool on_key_part(string_view s, std::size_t, error_code&) {
        key.append(s.data(), s.size());
        return true;
    }
    bool on_key(string_view s, std::size_t, error_code&) {
        key.append(s.data(), s.size());
        open.back().push_back(std::move(key));
        key.clear();
        return true;
    }
    bool on_string_part(string_view, std::size_t, error_code&) { return true; }
    bool on_string(string_view, std::size_t, error_code&) { return true; }
    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t, string_view, error_code&) { return true; }
    bool on_uint64(std::uint64_t, string_view, error_code&) { return true; }
    bool on_double(double, string_view, error_code&) { return true; }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }
};

std::optional<std::string> duplicate_key(std::string_view body, const boost::json::parse_options& opts) {
    boost::json::basic_parser<duplicate_finder> p(opts);
    boost::json::error_code ec;
    p.write_some(false, body.data(), body.size(), ec);
    return p.handler().duplicate;
}

}  // namespace

core::result<boost::json::value> parse_body(std::string_view body) {
    boost::json::error_code ec;
    boost::json::parse_options opts;
    opts.max_depth = 16;
    boost::json::value root = boost::json::parse(body, ec, {}, opts);
    if (ec) {
        // The original's words; what the parser saw goes to the log.
        core::error e = core::error::field(core::errc::invalid_argument, "JSON inválido", "body", "json");
        e.internal_message = "body is not JSON: " + ec.message();
        return core::fail(std::move(e));
    }
    if (auto dup = duplicate_key(body, opts)) {
        if (dup->size() > 64) dup->resize(64);
        return core::fail(core::error::field(core::errc::invalid_argument,
                                             "the body names the key \"" + *dup + "\" more than once", *dup,
                                             "unique"));
    }
    return root;
}

core::result<boost::json::object> parse_object_body(std::string_view body) {
    auto root = parse_body(body);
    if (!root) return core::fail(std::move(root.error()));
    if (!root->is_object()) {
        return core::fail(core::error::field(core::errc::invalid_argument, "the body must be a JSON object",
                                             "body", "type:object"));
    }
    return std::move(root->get_object());
}

core::error field_errors(std::vector<core::field_error> errors, std::string_view prefix) {
    std::string msg(prefix);
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (i) msg += ", ";
        msg.append(errors[i].field).append(" (").append(errors[i].rule).append(")");
    }
    return core::error::make(core::errc::invalid_argument, std::move(msg), std::move(errors));
}

}  // namespace dinex::api

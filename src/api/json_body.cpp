#include "api/json_body.hpp"

#include <boost/json/parse.hpp>

namespace dinex::api {

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
    return root;
}

core::result<boost::json::object> parse_object_body(std::string_view body) {
    auto root = parse_body(body);
    if (!root) return core::fail(std::move(root.error()));
    if (!root->is_object()) {
        return core::fail(
            core::error::field(core::errc::invalid_argument, "the body must be a JSON object", "body", "type:object"));
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

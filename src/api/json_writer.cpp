#include "api/json_writer.hpp"

#include <cmath>

#include "text/json_string.hpp"

namespace dinex::api {

json_writer& json_writer::value(double d) {
    separate();
    if (!std::isfinite(d)) {
        out_ += "null";  // JSON has no NaN or infinity; validation keeps them out of stored data
        return *this;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    if (r.ec != std::errc() || r.ptr - buf > 24) {
        r = std::to_chars(buf, buf + sizeof buf, d);
    }
    out_.append(buf, r.ptr);
    return *this;
}

void json_writer::quote(std::string_view s) {
    out_ += '"';
    text::append_json_escaped(out_, s);
    out_ += '"';
}

}  // namespace dinex::api

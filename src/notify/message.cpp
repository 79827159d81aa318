#include "notify/message.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/time.hpp"

namespace dinex::notify {

std::string message_json(const core::notification& n) {
    boost::json::object o;
    o["type"] = message_type;
    o["tracking_id"] = n.tracking_id;
    o["status"] = core::to_string(n.state);
    if (n.previous) {
        o["previous_status"] = core::to_string(*n.previous);
    } else {
        o["previous_status"] = nullptr;
    }
    o["location"] = n.location;
    o["timestamp"] = core::format_rfc3339(n.timestamp);
    o["event_id"] = n.event_id;
    return boost::json::serialize(o);
}

}  // namespace dinex::notify

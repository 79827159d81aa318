#pragma once
// The Lambda front-end: take an event, turn it into one api::request, call the application, turn
// the response back. One invocation at a time, as Lambda (default capacity) hands them out.
#include <string>
#include <string_view>

#include "api/application.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/stream_consumer.hpp"
#include "obs/event_metrics.hpp"
#include "obs/log.hpp"

namespace dinex::lambda {

// The outcome of one invocation: either a payload for /response or an error for /error.
struct outcome {
    bool ok = true;
    std::string payload;     // API Gateway response JSON when ok
    std::string error_type;  // when !ok
    std::string error_message;
};

// What the loop serves with: the application, the log, the Streams consumer (none: SNS_TOPIC not
// set) and where the application reports stored events, for the invocation's EMF lines.
struct runtime_context {
    api::application& app;
    obs::logger& log;
    stream_consumer* streams = nullptr;
    obs::emf_event_collector* events = nullptr;
    std::string environment = "dev";  // the EMF Environment dimension
};

// Decodes, handles and encodes one event. Never throws: a malformed event is an error outcome
// (InvalidEvent); an exception from the application becomes a clean 500 answer for the client.
outcome handle_invocation(const runtime_context& ctx, const invocation& inv);

// Answers a DynamoDB Streams event with the consumer (docs/NOTIFICATIONS.md); without one
// (SNS_TOPIC not set) the invocation fails (Runtime.NotificationsNotConfigured) so Lambda keeps
// the records for retry / the on-failure destination instead of dropping them.
outcome handle_stream_invocation(stream_consumer* streams, obs::logger& log, const invocation& inv);

// Serves invocations until the Runtime API fails; returns the exit status. DynamoDB Streams
// events go to `streams`, everything else to the application.
int run_loop(runtime_client& client, const runtime_context& ctx);

}  // namespace dinex::lambda

#pragma once
// DynamoDB Streams events → `tracking.updated` notifications (docs/NOTIFICATIONS.md).
//
// The table's stream (NEW_AND_OLD_IMAGES) is the source of truth for "a state changed": every
// record of a STATE item whose event_id differs from the old image's (or that has no old image)
// is one state change, published through the core `notifier` port. The answer uses Lambda's
// ReportBatchItemFailures format, so a failed publish is retried from that record on, in order.
// Boost.JSON stays inside the .cpp: the header exposes std and core types only.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.hpp"
#include "obs/log.hpp"

namespace dinex::lambda {

// True when the payload is a DynamoDB Streams event: an object whose `Records` is a non-empty
// array whose first record has eventSource "aws:dynamodb". Cheap for everything else: an API
// Gateway event is only parsed here when it contains the text "aws:dynamodb".
bool is_stream_event(std::string_view payload);

enum class record_action {
    publish,    // a state change: `message` is set
    ignore,     // not a state change (other items, late arrival, replay, removal)
    malformed,  // cannot be read: logged, counted, skipped (see docs/NOTIFICATIONS.md)
};

struct record_decision {
    record_action action = record_action::ignore;
    std::string sequence_number;  // dynamodb.SequenceNumber (empty when the record has none)
    std::string event_id;         // the record's eventID, for logs
    std::optional<core::notification> message;
    std::string reason;  // why ignored / malformed
};

// The decision for every record of a stream event, in order. An error when the payload is not a
// stream event at all (not JSON, no Records array).
std::expected<std::vector<record_decision>, std::string> decide_records(std::string_view payload);

struct stream_counters {
    std::uint64_t batches = 0;
    std::uint64_t records = 0;
    std::uint64_t published = 0;
    std::uint64_t ignored = 0;
    std::uint64_t malformed = 0;
    std::uint64_t failed = 0;  // publish failures (each makes the rest of its batch retried)
};

class stream_consumer {
public:
    // `environment`: the EMF Environment dimension of its batch documents, which go to
    // `document_fd` (stdout: the function's log stream) with one write each.
    stream_consumer(core::notifier& notifier, obs::logger& log, std::string environment = "dev",
                    int document_fd = 1)
        : notifier_(notifier), log_(log), environment_(std::move(environment)), document_fd_(document_fd) {}

    // Handles one stream event and returns the answer for the Runtime API:
    // {"batchItemFailures":[{"itemIdentifier":"<SequenceNumber>"}, ...]} listing the first record
    // whose publish failed and every later record of the batch (none are attempted after a
    // failure, so per-shard order holds); [] when everything was published or skipped.
    std::string handle(std::string_view payload, std::string_view aws_request_id = {});

    const stream_counters& counters() const noexcept { return counters_; }

private:
    core::notifier& notifier_;
    obs::logger& log_;
    std::string environment_;
    int document_fd_;
    stream_counters counters_;
};

}  // namespace dinex::lambda

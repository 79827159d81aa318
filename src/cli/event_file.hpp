#pragma once
// Files of tracking events for `import`: CSV with a header row, or JSON Lines (one POST /tracking
// body per line, what `export` writes). Each row becomes the same core::event_input the API
// decodes, so rows go through exactly the API's validation afterwards.
#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/tracking_service.hpp"

namespace dinex::cli {

enum class file_format { csv, jsonl };

// "csv", "jsonl" (also "ndjson"); nullopt otherwise.
std::optional<file_format> parse_format(std::string_view name) noexcept;
// From the file name's extension: .csv, .jsonl, .ndjson; nullopt when it says nothing.
std::optional<file_format> format_of_path(std::string_view path) noexcept;

// The CSV columns, in the order `import --help` lists them; the first three are required.
inline constexpr std::string_view csv_columns[] = {
    "tracking_id",        "status",   "location",  "timestamp", "event_id", "description",
    "estimated_delivery", "latitude", "longitude", "notes"};

struct event_row {
    std::size_t line = 0;  // 1-based line where the row starts
    core::result<core::event_input> input;
};

class event_reader {
public:
    event_reader(std::istream& in, file_format format);

    // Reads the CSV header (nothing for JSON Lines). An error message when the file cannot be
    // read as this format at all (no header, unknown or missing columns).
    std::optional<std::string> open();

    // The next row, or nullopt at the end of the input.
    std::optional<event_row> next();

    std::size_t bytes_read() const noexcept { return bytes_; }

private:
    bool read_line(std::string& line);
    std::optional<event_row> next_csv();
    std::optional<event_row> next_jsonl();

    std::istream& in_;
    file_format format_;
    std::size_t line_ = 0;
    std::size_t bytes_ = 0;
    std::vector<int> column_field_;  // for each CSV column, its index in csv_columns
    std::string buffer_;
};

// Splits one CSV record (RFC 4180: quoted fields, "" inside quotes; the record may span lines,
// which `record` must already hold). nullopt when the quoting is broken.
std::optional<std::vector<std::string>> split_csv_record(std::string_view record);

}  // namespace dinex::cli

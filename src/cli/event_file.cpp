#include "cli/event_file.hpp"

#include <charconv>
#include <cmath>

#include "api/json_codec.hpp"
#include "core/text.hpp"
#include "core/time.hpp"

namespace dinex::cli {
namespace {

enum column : int {
    tracking_id,
    status,
    location,
    timestamp,
    event_id,
    description,
    estimated_delivery,
    latitude,
    longitude,
    notes
};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Epoch seconds, as the API takes them in JSON: digits with an optional fraction.
std::optional<core::millis> epoch_seconds(std::string_view s) {
    double secs = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), secs, std::chars_format::fixed);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    if (!std::isfinite(secs) || secs < 0 || secs >= 32503680000.0) return std::nullopt;
    return static_cast<core::millis>(std::llround(secs * 1000.0));
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s) {
        if ((c < '0' || c > '9') && c != '.') return false;
    }
    return true;
}

core::result<core::event_input> to_input(const std::vector<std::string>& cells,
                                         const std::vector<int>& fields) {
    core::event_input in;
    std::vector<core::field_error> errors;
    if (cells.size() != fields.size()) {
        return core::fail(core::error::field(core::errc::invalid_argument,
                                             "the row has " + std::to_string(cells.size()) +
                                                 " cells; the header has " + std::to_string(fields.size()),
                                             "row", "columns:" + std::to_string(fields.size())));
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string_view v = cells[i];
        if (v.empty()) continue;  // an empty cell is an absent field
        const auto number = [&](const char* name) -> std::optional<double> {
            double d = 0;
            const std::string_view t = core::trim_blanks(v);
            const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
            if (ec != std::errc{} || end != t.data() + t.size()) {
                errors.push_back({name, "type:number"});
                return std::nullopt;
            }
            return d;
        };
        switch (fields[i]) {
            case tracking_id: in.tracking_id = std::string(v); break;
            case status: in.status = std::string(v); break;
            case location: in.location = std::string(v); break;
            case event_id: in.event_id = std::string(core::trim_blanks(v)); break;
            case description: in.description = std::string(v); break;
            case notes: in.notes = std::string(v); break;
            case latitude: in.latitude = number("latitude"); break;
            case longitude: in.longitude = number("longitude"); break;
            case timestamp: {
                const std::string_view t = core::trim_blanks(v);
                if (all_digits(t)) {
                    in.timestamp = epoch_seconds(t);
                    if (!in.timestamp) errors.push_back({"timestamp", "range:epoch_seconds"});
                } else {
                    in.timestamp = core::parse_rfc3339(t);
                    if (!in.timestamp) errors.push_back({"timestamp", "format:rfc3339"});
                }
                break;
            }
            case estimated_delivery:
                in.estimated_delivery = core::parse_rfc3339(core::trim_blanks(v));
                if (!in.estimated_delivery) errors.push_back({"estimated_delivery", "format:rfc3339"});
                break;
            default: break;
        }
    }
    if (!errors.empty()) {
        std::string msg = "the row has cells of the wrong type: ";
        for (std::size_t i = 0; i < errors.size(); ++i) {
            if (i) msg += ", ";
            msg += errors[i].field + " (" + errors[i].rule + ")";
        }
        return core::fail(core::error::make(core::errc::invalid_argument, std::move(msg), std::move(errors)));
    }
    return in;
}

}  // namespace

std::optional<file_format> parse_format(std::string_view name) noexcept {
    if (name == "csv") return file_format::csv;
    if (name == "jsonl" || name == "ndjson") return file_format::jsonl;
    return std::nullopt;
}

std::optional<file_format> format_of_path(std::string_view path) noexcept {
    const std::string p = core::ascii_lower(path);
    if (ends_with(p, ".csv")) return file_format::csv;
    if (ends_with(p, ".jsonl") || ends_with(p, ".ndjson")) return file_format::jsonl;
    return std::nullopt;
}

std::optional<std::vector<std::string>> split_csv_record(std::string_view record) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    bool was_quoted = false;  // the current cell was a quoted one: only a separator may follow
    for (std::size_t i = 0; i < record.size(); ++i) {
        const char c = record[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < record.size() && record[i + 1] == '"') {
                    cell += '"';
                    ++i;
                } else {
                    quoted = false;
                    was_quoted = true;
                }
            } else {
                cell += c;
            }
            continue;
        }
        if (c == ',') {
            cells.push_back(std::move(cell));
            cell.clear();
            was_quoted = false;
        } else if (c == '"') {
            if (!cell.empty() || was_quoted) return std::nullopt;  // a quote inside a bare cell
            quoted = true;
        } else {
            if (was_quoted) return std::nullopt;  // text after the closing quote
            cell += c;
        }
    }
    if (quoted) return std::nullopt;
    cells.push_back(std::move(cell));
    return cells;
}

event_reader::event_reader(std::istream& in, file_format format) : in_(in), format_(format) {}

bool event_reader::read_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    ++line_;
    bytes_ += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 byte order mark
    return true;
}

std::optional<std::string> event_reader::open() {
    if (format_ == file_format::jsonl) return std::nullopt;
    std::string header;
    if (!read_line(header))
        return "the CSV file is empty: it needs a header row (" + std::string(csv_columns[0]) + ",...)";
    const auto names = split_csv_record(header);
    if (!names) return "the CSV header row is not valid CSV";
    std::vector<bool> seen(std::size(csv_columns), false);
    for (const auto& raw : *names) {
        const std::string name = core::ascii_lower(core::trim_blanks(raw));
        int found = -1;
        for (std::size_t k = 0; k < std::size(csv_columns); ++k) {
            if (csv_columns[k] == name) found = static_cast<int>(k);
        }
        if (found < 0) {
            std::string message = "unknown CSV column '" + name + "' (known: ";
            for (std::size_t k = 0; k < std::size(csv_columns); ++k) {
                message.append(k == 0 ? "" : ",").append(csv_columns[k]);
            }
            message += ')';
            return message;
        }
        if (seen[static_cast<std::size_t>(found)]) return "the CSV column '" + name + "' appears twice";
        seen[static_cast<std::size_t>(found)] = true;
        column_field_.push_back(found);
    }
    for (int required : {tracking_id, status, location}) {
        if (!seen[static_cast<std::size_t>(required)]) {
            return "the CSV header has no '" + std::string(csv_columns[required]) +
                   "' column (required: tracking_id,status,location)";
        }
    }
    return std::nullopt;
}

std::optional<event_row> event_reader::next() {
    return format_ == file_format::csv ? next_csv() : next_jsonl();
}

std::optional<event_row> event_reader::next_csv() {
    for (;;) {
        if (!read_line(buffer_)) return std::nullopt;
        if (core::trim_blanks(buffer_).empty()) continue;
        const std::size_t first_line = line_;
        // A quoted cell may hold line breaks: the record goes on while its quotes are unbalanced.
        std::size_t quotes = 0;
        for (const char c : buffer_) quotes += c == '"';
        // A stray quote would otherwise swallow the rest of the file into one record: no valid
        // event comes near 64 KiB, so the record ends there and is refused.
        constexpr std::size_t max_record = std::size_t{64} * 1024;
        std::string more;
        while (quotes % 2 == 1 && buffer_.size() <= max_record && read_line(more)) {
            buffer_ += '\n';
            buffer_ += more;
            for (const char c : more) quotes += c == '"';
        }
        const auto cells = buffer_.size() > max_record ? std::nullopt : split_csv_record(buffer_);
        if (!cells) {
            return event_row{
                first_line,
                core::fail(core::error::field(
                    core::errc::invalid_argument,
                    "the row is not valid CSV (unbalanced quotes, or a record over 64 KiB)", "row", "csv"))};
        }
        return event_row{first_line, to_input(*cells, column_field_)};
    }
}

std::optional<event_row> event_reader::next_jsonl() {
    for (;;) {
        if (!read_line(buffer_)) return std::nullopt;
        if (core::trim_blanks(buffer_).empty()) continue;
        return event_row{line_, api::decode_event_input(buffer_)};
    }
}

}  // namespace dinex::cli

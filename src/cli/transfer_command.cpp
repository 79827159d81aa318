// `dinex-tracking import FILE` and `dinex-tracking export`: events in and out of any store, for
// bulk loads, backups and migration between stores (README, docs/OPERATIONS.md). Import goes
// through the same validation and store path as POST /tracking/batch; export writes JSON Lines
// that import reads back exactly.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "api/json_codec.hpp"
#include "cli/commands.hpp"
#include "cli/event_file.hpp"
#include "cli/stack.hpp"

namespace dinex::cli {
namespace {

using steady = std::chrono::steady_clock;

struct store_choice {
    std::string store = "sqlite";
    std::string data_dir = "data";
    std::string db;
    std::string table;
    unsigned retention_days = 30;
};

void add_store_options(CLI::App* cmd, store_choice& o) {
    cmd->add_option("--store", o.store, "sqlite (default), dynamodb (TABLE_NAME, AWS_* settings) or memory")
        ->envname("DINEX_STORE")
        ->capture_default_str();
    cmd->add_option("--data-dir", o.data_dir, "Directory of the default database file")
        ->envname("DINEX_DATA_DIR")
        ->capture_default_str();
    cmd->add_option("--db", o.db, "SQLite database file (default: <data-dir>/tracking.db, as serve)")
        ->envname("DINEX_DB");
    cmd->add_option("--table", o.table, "DynamoDB table")->envname("TABLE_NAME");
    cmd->add_option("--retention-days", o.retention_days,
                    "Days a package is kept after its last change (as serve)")
        ->envname("DINEX_RETENTION_DAYS")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
}

// `reading`: the command only reads (export): the database must exist, and is opened read-only.
std::unique_ptr<service_stack> open_stack(const store_choice& o, bool reading = false) {
    stack_options s;
    s.existing_only = reading;
    s.read_only = reading;
    s.store = o.store;
    s.sqlite_path = o.db.empty() ? (std::filesystem::path(o.data_dir) / "tracking.db").string() : o.db;
    s.dynamodb_table = o.table;
    s.retention_days = o.retention_days;
    s.rate_limits = "off";
    auto stack = build_stack(s);
    if (!stack) {
        std::cerr << "error: " << stack.error().message << "\n";
        return nullptr;
    }
    return std::move(*stack);
}

std::string with_commas(std::uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// ---- import ----

struct import_options {
    store_choice store;
    std::string file;
    std::string format;
    std::size_t batch = 500;
    std::size_t max_report = 100;
    bool allow_rejects = false;
};

struct rejected_row {
    std::size_t line;
    core::error error;
};

struct tally {
    std::uint64_t rows = 0, created = 0, late = 0, replay = 0, rejected = 0, failed = 0;
    // Rows with neither event_id nor timestamp: no key can recognise them when the file is
    // imported again (docs/OPERATIONS.md), so the summary counts them.
    std::uint64_t unkeyed = 0;
    std::size_t first_unkeyed_line = 0;
    std::vector<rejected_row> report;  // the first max_report rows that were not stored
    std::size_t max_report = 100;

    void add(std::size_t line, const core::result<core::append_outcome>& r) {
        ++rows;
        if (r) {
            created += r->kind == core::outcome_kind::created;
            late += r->kind == core::outcome_kind::late_arrival;
            replay += r->kind == core::outcome_kind::replay;
            return;
        }
        // A back-end failure is not the row's fault: counted apart, and always fatal to the exit code.
        const bool store_failure =
            r.error().code == core::errc::unavailable || r.error().code == core::errc::internal;
        ++(store_failure ? failed : rejected);
        if (report.size() < max_report) report.push_back({line, r.error()});
    }
};

// Progress on stderr: a bar redrawn in place on a terminal, a plain line every 10 s otherwise.
class progress {
public:
    progress(std::uintmax_t total_bytes, bool tty)
        : total_(total_bytes), tty_(tty), start_(steady::now()), last_(start_) {}

    void update(const tally& t, std::size_t bytes, bool final = false) {
        const auto now = steady::now();
        const auto every = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10'000);
        if (!final && now - last_ < every) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const auto rate = secs > 0 ? static_cast<std::uint64_t>(static_cast<double>(t.rows) / secs) : 0;
        std::string line;
        if (total_ > 0) {
            const double frac = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_));
            if (tty_) {
                constexpr int width = 30;
                const int filled = static_cast<int>(frac * width);
                line += '[';
                line.append(static_cast<std::size_t>(filled), '#');
                line.append(static_cast<std::size_t>(width - filled), '.');
                line += "] ";
            }
            line += std::to_string(static_cast<int>(frac * 100)) + "% ";
        }
        line += with_commas(t.rows) + " rows, " + with_commas(rate) + " rows/s, " +
                with_commas(t.rejected + t.failed) + " not stored";
        if (tty_) {
            std::cerr << '\r' << line << "\x1b[K" << (final ? "\n" : "") << std::flush;
        } else {
            std::cerr << "import: " << line << '\n' << std::flush;
        }
    }

private:
    std::uintmax_t total_;
    bool tty_;
    steady::time_point start_, last_;
};

std::string reasons(const core::error& e) {
    if (e.details.empty()) return e.message;
    std::string out;
    for (const auto& d : e.details) {
        if (!out.empty()) out += "; ";
        out += d.field + " (" + d.rule + ")";
    }
    if (e.code == core::errc::conflict) out += ": " + e.message;
    return out;
}

int run_import(const import_options& o) {
    std::optional<file_format> format;
    if (!o.format.empty()) {
        format = parse_format(o.format);
        if (!format) {
            std::cerr << "error: --format must be csv or jsonl, not '" << o.format << "'\n";
            return 2;
        }
    } else {
        format = format_of_path(o.file);
        if (!format) {
            std::cerr << "error: cannot tell the format of " << (o.file == "-" ? "stdin" : o.file)
                      << " from its name: give --format csv or --format jsonl\n";
            return 2;
        }
    }
    if (o.batch < 1 || o.batch > core::limits::batch_max) {
        std::cerr << "error: --batch-size must be 1 to " << core::limits::batch_max << "\n";
        return 2;
    }
    std::ifstream file;
    std::istream* in = &std::cin;
    std::uintmax_t total_bytes = 0;
    if (o.file != "-") {
        file.open(o.file, std::ios::binary);
        if (!file) {
            std::cerr << "error: cannot open " << o.file << "\n";
            return 2;
        }
        std::error_code ec;
        total_bytes = std::filesystem::file_size(o.file, ec);
        if (ec) total_bytes = 0;
        in = &file;
    }
    std::vector<char> buffer(1 << 20);
    in->rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));

    event_reader reader(*in, *format);
    if (auto bad = reader.open()) {
        std::cerr << "error: " << *bad << "\n";
        return 2;
    }
    auto stack = open_stack(o.store);
    if (!stack) return 1;
    core::tracking_service& service = *stack->service;

    tally t;
    t.max_report = o.max_report;
    progress bar(total_bytes, isatty(STDERR_FILENO) == 1);
    const auto started = steady::now();

    // A batch on its way through the store, with the line of each of its rows.
    struct pending {
        std::vector<std::size_t> lines;
        std::future<std::vector<core::result<core::append_outcome>>> results;
    };
    std::deque<pending> in_flight;
    // SQLite applies queued jobs in order on its one writer, so the next batches can be parsed and
    // queued while one is written, and the group commit puts the queued ones in one transaction
    // (fewer, larger WAL writes: docs/PERFORMANCE.md). Other stores may run two batches at once,
    // which could reorder events of one package between them: there, one batch at a time keeps
    // file order.
    const std::size_t depth = stack->store->backend_name() == "sqlite" ? 16 : 1;
    const auto settle_one = [&] {
        pending p = std::move(in_flight.front());
        in_flight.pop_front();
        auto results = p.results.get();
        for (std::size_t k = 0; k < results.size(); ++k) t.add(p.lines[k], results[k]);
    };

    std::vector<core::event_input> inputs;
    std::vector<std::size_t> lines;
    const auto submit = [&] {
        if (inputs.empty()) return;
        while (in_flight.size() >= depth) settle_one();
        auto promise = std::make_shared<std::promise<std::vector<core::result<core::append_outcome>>>>();
        in_flight.push_back({std::move(lines), promise->get_future()});
        service.record_batch(inputs, [promise](std::vector<core::result<core::append_outcome>> r) {
            promise->set_value(std::move(r));
        });
        inputs.clear();
        lines.clear();
        bar.update(t, reader.bytes_read());
    };

    while (auto row = reader.next()) {
        if (!row->input) {
            // Rows that are not even an event keep their place in the count, in file order
            // relative to their batch (reported by line number, so order does not matter).
            t.add(row->line, core::result<core::append_outcome>(core::fail(std::move(row->input.error()))));
            continue;
        }
        if (!row->input->event_id && !row->input->timestamp && t.unkeyed++ == 0)
            t.first_unkeyed_line = row->line;
        inputs.push_back(std::move(*row->input));
        lines.push_back(row->line);
        if (inputs.size() >= o.batch) submit();
    }
    const bool read_error = in->bad();
    submit();
    while (!in_flight.empty()) settle_one();
    bar.update(t, reader.bytes_read(), true);
    stack->shutdown();

    const double secs = std::chrono::duration<double>(steady::now() - started).count();
    std::cout << "imported " << (o.file == "-" ? "stdin" : o.file) << ": " << with_commas(t.rows)
              << " rows: " << with_commas(t.created) << " created, " << with_commas(t.late)
              << " late arrivals, " << with_commas(t.replay) << " replays, " << with_commas(t.rejected)
              << " rejected";
    if (t.failed) std::cout << ", " << with_commas(t.failed) << " failed (store)";
    char timing[64];
    std::snprintf(
        timing, sizeof timing, " in %.1f s (%s rows/s)\n", secs,
        with_commas(secs > 0 ? static_cast<std::uint64_t>(static_cast<double>(t.rows) / secs) : 0).c_str());
    std::cout << timing;
    if (!t.report.empty()) {
        std::sort(t.report.begin(), t.report.end(),
                  [](const auto& a, const auto& b) { return a.line < b.line; });
        std::cout << "rows not stored (line: reasons):\n";
        for (const auto& r : t.report) std::cout << "  line " << r.line << ": " << reasons(r.error) << "\n";
        const std::uint64_t more = t.rejected + t.failed - t.report.size();
        if (more > 0) std::cout << "  ... and " << with_commas(more) << " more\n";
    }
    if (t.unkeyed > 0) {
        std::cout
            << "warning: " << with_commas(t.unkeyed) << " rows (the first on line " << t.first_unkeyed_line
            << ") have neither event_id nor timestamp: importing this file again would store them again. "
               "Give them an event_id or a timestamp to make a re-run add nothing.\n";
    }
    if (read_error) {
        std::cerr << "error: reading " << o.file << " failed before its end\n";
        return 1;
    }
    if (t.failed > 0) return 1;
    if (t.rejected > 0 && !o.allow_rejects) return 1;
    return 0;
}

// ---- export ----

struct export_options {
    store_choice store;
    std::string output;
};

int run_export(const export_options& o) {
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!o.output.empty() && o.output != "-") {
        file.open(o.output, std::ios::binary | std::ios::trunc);
        if (!file) {
            std::cerr << "error: cannot write " << o.output << "\n";
            return 2;
        }
        out = &file;
    }
    auto stack = open_stack(o.store, true);
    if (!stack) return 1;
    std::uint64_t packages = 0, events = 0;
    std::string cursor;
    std::string chunk;
    std::vector<core::event> arrival_order;
    // One page of packages in memory at a time, whatever the size of the store.
    do {
        auto page = stack->service->export_packages(cursor, 200);
        if (!page) {
            std::cerr << "error: " << page.error().message << " (" << page.error().internal_message << ")\n";
            return 1;
        }
        chunk.clear();
        for (const auto& p : page->packages) {
            ++packages;
            // In the order they arrived: replayed in that order, every event meets the state it met
            // the first time, so each is again created or a late arrival (a DELIVERED that came
            // late stays late), and ties at one millisecond keep their order (core/lifecycle.hpp).
            arrival_order.assign(p.events.begin(), p.events.end());
            std::stable_sort(
                arrival_order.begin(), arrival_order.end(),
                [](const core::event& a, const core::event& b) { return a.sequence < b.sequence; });
            for (const auto& e : arrival_order) {
                chunk += api::encode_export_line(e);
                chunk += '\n';
                ++events;
            }
        }
        out->write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        cursor = std::move(page->next);
    } while (!cursor.empty());
    out->flush();
    stack->shutdown();
    if (!*out) {
        std::cerr << "error: writing the export failed\n";
        return 1;
    }
    std::cerr << "exported " << with_commas(packages) << " packages, " << with_commas(events) << " events\n";
    return 0;
}

}  // namespace

command register_import(CLI::App& cli) {
    auto o = std::make_shared<import_options>();
    auto* cmd = cli.add_subcommand(
        "import", "Import tracking events from CSV or JSON Lines (through the API's validation)");
    cmd->add_option(
           "file", o->file,
           "CSV with a header row (tracking_id,status,location required; timestamp, event_id, description, "
           "estimated_delivery, latitude, longitude, notes optional) or JSON Lines (one POST /tracking body "
           "per line); - for stdin")
        ->required();
    cmd->add_option("--format", o->format, "csv or jsonl (default: from the file's extension)");
    cmd->add_option("--batch-size", o->batch, "Events per store call (1-500)")->capture_default_str();
    cmd->add_option("--max-report", o->max_report, "Rows not stored listed in the summary at most")
        ->capture_default_str();
    cmd->add_flag("--allow-rejects", o->allow_rejects,
                  "Exit 0 even when rows were rejected (store failures still exit 1)");
    add_store_options(cmd, o->store);
    return {cmd, [o]() { return run_import(*o); }};
}

command register_export(CLI::App& cli) {
    auto o = std::make_shared<export_options>();
    auto* cmd = cli.add_subcommand("export", "Write every live event as JSON Lines (what import reads back)");
    cmd->add_option("--output,-o", o->output, "File to write (default: stdout)");
    add_store_options(cmd, o->store);
    return {cmd, [o]() { return run_export(*o); }};
}

}  // namespace dinex::cli

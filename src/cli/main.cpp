// dinex-tracking: the one binary. All wiring happens here; every other layer takes its
// dependencies through constructors.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "api/application.hpp"
#include "cli/sweeper.hpp"
#include "core/system_ports.hpp"
#include "core/tracking_service.hpp"
#include "obs/log.hpp"
#include "server/http_server.hpp"
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace dinex;

struct serve_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string store = "sqlite";
    std::string data_dir = "data";
    std::string db;
    unsigned threads = 0;
    std::string cors_origins = "*";
    std::string log_level = "info";
    unsigned retention_days = 30;
    unsigned sweep_interval_seconds = 3600;
    std::size_t max_body_bytes = 64 * 1024;
};

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const auto comma = s.find(',', start);
        std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) out.push_back(std::move(item));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

int serve(const serve_options& o) {
    const auto lvl = obs::parse_level(o.log_level);
    obs::logger log(lvl.value_or(obs::level::info));
    if (!lvl) {
        std::cerr << "error: --log-level must be one of debug, info, warn, error\n";
        return 2;
    }

    core::system_clock clock;
    core::ulid_generator ids(clock);

    std::unique_ptr<core::store> store;
    std::string db_path;
    if (o.store == "sqlite") {
        db_path = o.db.empty() ? (std::filesystem::path(o.data_dir) / "tracking.db").string() : o.db;
        std::error_code ec;
        const auto parent = std::filesystem::path(db_path).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec) {
            std::cerr << "error: cannot create the data directory " << parent << ": " << ec.message() << "\n";
            return 1;
        }
        auto opened = store::sqlite_store::open({.path = db_path});
        if (!opened) {
            std::cerr << "error: " << opened.error().message << "\n";
            return 1;
        }
        store = std::move(*opened);
    } else if (o.store == "memory") {
        store = std::make_unique<store::memory_store>();
    } else {
        std::cerr << "error: --store must be sqlite or memory\n";
        return 2;
    }

    core::service_config service_cfg;
    service_cfg.lifecycle.retention = static_cast<core::millis>(o.retention_days) * 86'400'000;
    core::tracking_service service(*store, clock, ids, service_cfg);

    api::app_config app_cfg;
    app_cfg.version = DINEX_VERSION;
    app_cfg.cors_origins = split_list(o.cors_origins);
    app_cfg.max_body_bytes = o.max_body_bytes;
    api::application app(service, app_cfg);

    server::server_config server_cfg;
    server_cfg.host = o.host;
    server_cfg.port = o.port;
    server_cfg.threads = o.threads;
    server_cfg.max_body_bytes = o.max_body_bytes;
    server::http_server http(app, log, server_cfg);
    try {
        http.listen();
    } catch (const std::system_error& e) {
        std::cerr << "error: cannot listen on " << o.host << ":" << o.port << ": " << e.what() << "\n";
        return 1;
    }

    cli::expiry_sweeper sweeper(service, log, std::chrono::seconds(o.sweep_interval_seconds));
    log.log(obs::level::info, "listening",
            {{"host", std::string_view(o.host)},
             {"port", std::int64_t{http.port()}},
             {"url", std::string_view("http://" + o.host + ":" + std::to_string(http.port()) + "/")},
             {"store", store->backend_name()},
             {"db", std::string_view(db_path)},
             {"version", std::string_view(DINEX_VERSION)}});
    log.flush();

    http.run();  // until SIGINT/SIGTERM; in-flight requests finish first

    sweeper.stop();
    if (auto* sqlite = dynamic_cast<store::sqlite_store*>(store.get())) sqlite->stop();
    log.log(obs::level::info, "stopped");
    log.flush();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"DINEX Tracking: package tracking service"};
    cli.set_version_flag("-V,--version", std::string("dinex-tracking ") + DINEX_VERSION);
    cli.require_subcommand(1);

    serve_options so;
    auto* serve_cmd = cli.add_subcommand("serve", "Run the HTTP API and tracking page on a local store");
    serve_cmd->add_option("--host", so.host, "Address to listen on")->envname("DINEX_HOST")->capture_default_str();
    serve_cmd->add_option("--port", so.port, "TCP port (0: any free port)")->envname("DINEX_PORT")->capture_default_str();
    serve_cmd->add_option("--store", so.store, "Storage back-end: sqlite or memory")
        ->envname("DINEX_STORE")
        ->check(CLI::IsMember({"sqlite", "memory"}))
        ->capture_default_str();
    serve_cmd->add_option("--data-dir", so.data_dir, "Directory for the default database file")
        ->envname("DINEX_DATA_DIR")
        ->capture_default_str();
    serve_cmd->add_option("--db", so.db, "SQLite database file (default: <data-dir>/tracking.db)")->envname("DINEX_DB");
    serve_cmd->add_option("--threads", so.threads, "I/O threads (0: one per core)")->envname("DINEX_THREADS")->capture_default_str();
    serve_cmd->add_option("--cors-origins", so.cors_origins, "Comma-separated allowed origins, '*' for any, '' for none")
        ->envname("DINEX_CORS_ORIGINS")
        ->capture_default_str();
    serve_cmd->add_option("--log-level", so.log_level, "debug, info, warn or error")
        ->envname("DINEX_LOG_LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
        ->capture_default_str();
    serve_cmd->add_option("--retention-days", so.retention_days, "Days a package is kept after its last change")
        ->envname("DINEX_RETENTION_DAYS")
        ->check(CLI::Range(1U, 3650U))
        ->capture_default_str();
    serve_cmd->add_option("--sweep-interval", so.sweep_interval_seconds, "Seconds between expiry sweeps")
        ->envname("DINEX_SWEEP_INTERVAL")
        ->check(CLI::Range(1U, 86400U))
        ->capture_default_str();
    serve_cmd->add_option("--max-body-bytes", so.max_body_bytes, "Largest accepted request body")
        ->envname("DINEX_MAX_BODY_BYTES")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{16} * 1024 * 1024))
        ->capture_default_str();

    CLI11_PARSE(cli, argc, argv);

    if (serve_cmd->parsed()) return serve(so);
    return 0;
}

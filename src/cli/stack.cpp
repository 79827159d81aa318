#include "cli/stack.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "aws/credentials.hpp"
#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/memory/memory_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace dinex::cli {

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

void service_stack::shutdown() {
    if (auto* sqlite = dynamic_cast<store::sqlite_store*>(store.get())) sqlite->stop();
    if (auto* dynamo = dynamic_cast<store::dynamodb_store*>(store.get())) dynamo->stop();
}

std::unique_ptr<service_stack> build_stack(const stack_options& o, std::string& error) {
    auto stack = std::make_unique<service_stack>();
    if (o.store == "sqlite") {
        std::error_code ec;
        const auto parent = std::filesystem::path(o.sqlite_path).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec) {
            error = "cannot create the data directory " + parent.string() + ": " + ec.message();
            return nullptr;
        }
        auto opened = store::sqlite_store::open({.path = o.sqlite_path});
        if (!opened) {
            error = opened.error().message;
            return nullptr;
        }
        stack->store = std::move(*opened);
        stack->store_detail = o.sqlite_path;
    } else if (o.store == "memory") {
        stack->store = std::make_unique<store::memory_store>();
        stack->store_detail = "process memory (lost on exit)";
    } else if (o.store == "dynamodb") {
        std::string table = o.dynamodb_table;
        if (table.empty()) {
            if (const char* env = std::getenv("TABLE_NAME")) table = env;
        }
        if (table.empty()) {
            error = "the dynamodb store needs a table name (TABLE_NAME)";
            return nullptr;
        }
        auto config = aws::config_from_environment("dynamodb");
        if (!config) {
            error = config.error();
            return nullptr;
        }
        stack->store_detail = "dynamodb table " + table + " at " + config->endpoint;
        aws::dynamodb_options client_options;
        client_options.service = std::move(*config);
        store::dynamodb_store_options store_options;
        store_options.table = std::move(table);
        store_options.client = std::make_shared<aws::dynamodb_client>(std::move(client_options));
        stack->store = std::make_unique<store::dynamodb_store>(std::move(store_options));
    } else {
        error = "unknown store " + o.store;
        return nullptr;
    }

    core::service_config service_cfg;
    service_cfg.lifecycle.retention = static_cast<core::millis>(o.retention_days) * 86'400'000;
    stack->service = std::make_unique<core::tracking_service>(*stack->store, stack->clock, stack->ids, service_cfg);

    api::app_config app_cfg;
    app_cfg.version = DINEX_VERSION;
    app_cfg.cors_origins = split_list(o.cors_origins);
    app_cfg.max_body_bytes = o.max_body_bytes;
    app_cfg.lookup_cache_entries = o.lookup_cache_entries;
    stack->app = std::make_unique<api::application>(*stack->service, app_cfg);
    return stack;
}

}  // namespace dinex::cli

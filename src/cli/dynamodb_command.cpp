// `dinex-tracking create-table`: creates the DynamoDB table the `dynamodb` store uses, from the one
// definition in store/dynamodb/table_schema.cpp, and turns TTL on.
#include <chrono>
#include <expected>
#include <iostream>
#include <memory>
#include <thread>

#include <boost/json.hpp>

#include "aws/credentials.hpp"
#include "aws/dynamodb_client.hpp"
#include "cli/commands.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::cli {
namespace {

struct create_table_options {
    std::string table;
    bool wait = false;
    unsigned wait_seconds = 300;
    bool print_definition = false;
};

// The table's TableStatus ("CREATING", "ACTIVE" …), or why DescribeTable failed.
std::expected<std::string, std::string> table_status(aws::dynamodb_client& client, const std::string& table) {
    const auto d = client.call("DescribeTable", boost::json::object{{"TableName", table}});
    if (!d) return std::unexpected(d.error().describe());
    const auto* t = d->as_object().if_contains("Table");
    const auto* s = t && t->is_object() ? t->as_object().if_contains("TableStatus") : nullptr;
    return s && s->is_string() ? std::string(s->as_string()) : std::string("UNKNOWN");
}

int create_table(const create_table_options& o) {
    if (o.table.empty()) {
        std::cerr << "error: no table name (--table or TABLE_NAME)\n";
        return 2;
    }
    if (o.print_definition) {
        // What CreateTable and UpdateTimeToLive would send, without contacting AWS: the Terraform
        // table (infrastructure/terraform) is checked against it (tests/infra).
        std::cout << boost::json::serialize(boost::json::object{
                         {"CreateTable", store::dynamodb_schema::create_table_request(o.table)},
                         {"UpdateTimeToLive", store::dynamodb_schema::update_ttl_request(o.table)},
                     })
                  << "\n";
        return 0;
    }
    auto config = aws::config_from_environment("dynamodb");
    if (!config) {
        std::cerr << "error: " << config.error() << "\n";
        return 2;
    }
    aws::dynamodb_options client_options;
    client_options.service = *config;
    aws::dynamodb_client client(std::move(client_options));

    const auto created = client.call("CreateTable", store::dynamodb_schema::create_table_request(o.table));
    if (created) {
        std::cout << "created table " << o.table << " at " << config->endpoint << "\n";
    } else if (created.error().kind == aws::error_kind::resource_in_use) {
        std::cout << "table " << o.table << " already exists\n";
    } else {
        std::cerr << "error: CreateTable " << o.table << ": " << created.error().describe() << "\n";
        return 1;
    }

    if (o.wait) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_seconds);
        for (;;) {
            const auto status = table_status(client, o.table);
            if (status && *status == "ACTIVE") break;
            if (!status || std::chrono::steady_clock::now() > deadline) {
                std::cerr << "error: table " << o.table << " is not ACTIVE"
                          << (status ? " (status " + *status + ")" : ": " + status.error()) << "\n";
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::seconds(2));
        }
        std::cout << "table " << o.table << " is ACTIVE\n";
    }

    // TTL can only be set on an existing table; enabling it twice is refused with a
    // ValidationException ("TimeToLive is already enabled"), which is success here.
    const auto ttl = client.call("UpdateTimeToLive", store::dynamodb_schema::update_ttl_request(o.table));
    if (!ttl) {
        const auto& e = ttl.error();
        if (e.message.find("already enabled") == std::string::npos) {
            std::cerr << "error: UpdateTimeToLive " << o.table << ": " << e.describe() << "\n";
            return 1;
        }
    }
    std::cout << "time to live on " << store::dynamodb_schema::ttl_attribute << "\n";
    return 0;
}

}  // namespace

command register_create_table(CLI::App& cli) {
    auto o = std::make_shared<create_table_options>();
    auto* cmd = cli.add_subcommand("create-table",
                                   "Create the DynamoDB table (keys, status index, TTL, encryption); "
                                   "AWS settings from AWS_* variables");
    cmd->add_option("--table", o->table, "Table name")->envname("TABLE_NAME");
    cmd->add_flag("--wait", o->wait, "Wait until the table is ACTIVE");
    cmd->add_flag("--print-definition", o->print_definition,
                  "Print the CreateTable and UpdateTimeToLive requests as JSON and exit (no AWS call)");
    cmd->add_option("--wait-seconds", o->wait_seconds, "How long --wait waits at most")
        ->capture_default_str();
    return {cmd, [o] { return create_table(*o); }};
}

}  // namespace dinex::cli

#pragma once
// DynamoDB on moto_server, with signature checking on. ctest starts moto once (the `moto_start`
// fixture, tests/support/moto_fixture.py) and names its state file in DINEX_MOTO_STATE.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>

#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex::testing {

struct moto_table {
    std::shared_ptr<aws::dynamodb_client> client;
    std::string table;
};

// A client of the running moto_server and the table `name` on it, created when missing (so a
// test that reopens finds the same data).
inline moto_table moto(const std::string& name) {
    const char* state_path = std::getenv("DINEX_MOTO_STATE");
    if (!state_path) {
        throw std::runtime_error(
            "DINEX_MOTO_STATE is not set: the dynamodb contract tests need moto_server; "
            "run them through ctest (fixture moto_start)");
    }
    std::ifstream in(state_path);
    if (!in) throw std::runtime_error(std::string("moto is not running: no state file ") + state_path);
    const auto state = boost::json::parse(std::string{std::istreambuf_iterator<char>(in), {}}).as_object();
    aws::dynamodb_options o;
    o.service.endpoint = std::string(state.at("endpoint").as_string());
    o.service.region = std::string(state.at("region").as_string());
    o.service.creds.access_key_id = std::string(state.at("access_key_id").as_string());
    o.service.creds.secret_access_key = std::string(state.at("secret_access_key").as_string());
    auto client = std::make_shared<aws::dynamodb_client>(std::move(o));
    const auto created = client->call("CreateTable", store::dynamodb_schema::create_table_request(name));
    if (!created && created.error().kind != aws::error_kind::resource_in_use) {
        throw std::runtime_error("CreateTable " + name + ": " + created.error().describe());
    }
    return {client, name};
}

}  // namespace dinex::testing

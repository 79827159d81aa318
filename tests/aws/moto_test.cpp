// The AWS client and `create-table` against moto_server, which checks every SigV4 signature
// (started by ctest's `moto` fixture: tests/support/moto_fixture.py).
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>

#include <atomic>
#include <future>

#include "../support/fake_aws_http.hpp"
#include "../support/stores.hpp"
#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex {
namespace {

aws::service_config moto_config() {
    const char* path = std::getenv("DINEX_MOTO_STATE");
    if (!path) throw std::runtime_error("DINEX_MOTO_STATE is not set: run these tests through ctest (fixture moto_start)");
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("moto is not running: no state file ") + path);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    const auto s = boost::json::parse(text).as_object();
    aws::service_config c;
    c.endpoint = std::string(s.at("endpoint").as_string());
    c.region = std::string(s.at("region").as_string());
    c.creds.access_key_id = std::string(s.at("access_key_id").as_string());
    c.creds.secret_access_key = std::string(s.at("secret_access_key").as_string());
    return c;
}

aws::dynamodb_client client_for(aws::service_config c) {
    aws::dynamodb_options o;
    o.service = std::move(c);
    o.sleep = [](std::chrono::milliseconds) {};
    return aws::dynamodb_client(std::move(o));
}

std::string unique_table(const char* prefix) {
    std::random_device rd;
    return std::string(prefix) + "-" + std::to_string(rd());
}

TEST(Moto, OurSignatureIsAcceptedAndAWrongSecretIsRefused) {
    auto good = client_for(moto_config());
    const auto ok = good.call_once("ListTables", {});
    ASSERT_TRUE(ok) << ok.error().describe();
    EXPECT_TRUE(ok->as_object().contains("TableNames"));

    auto config = moto_config();
    config.creds.secret_access_key += "x";
    auto bad = client_for(config);
    const auto refused = bad.call_once("ListTables", {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, aws::error_kind::auth) << refused.error().describe();
    EXPECT_EQ(refused.error().http_status, 403) << refused.error().describe();
    EXPECT_TRUE(refused.error().type == "InvalidSignatureException" || refused.error().type == "SignatureDoesNotMatch")
        << refused.error().describe();
    EXPECT_FALSE(refused.error().retryable());
}

TEST(Moto, AnUnknownKeyIsRefused) {
    auto config = moto_config();
    config.creds.access_key_id = "AKIAIOSFODNN7EXAMPLE";
    auto bad = client_for(config);
    const auto refused = bad.call_once("ListTables", {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, aws::error_kind::auth) << refused.error().describe();
}

TEST(Moto, ErrorsAreClassified) {
    auto c = client_for(moto_config());
    const auto missing = c.call("DescribeTable", boost::json::object{{"TableName", "no-such-table"}});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, aws::error_kind::resource_not_found) << missing.error().describe();

    const std::string table = unique_table("classify");
    ASSERT_TRUE(c.call("CreateTable", store::dynamodb_schema::create_table_request(table)));
    const auto again = c.call("CreateTable", store::dynamodb_schema::create_table_request(table));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, aws::error_kind::resource_in_use) << again.error().describe();

    const boost::json::object put{
        {"TableName", table},
        {"Item", boost::json::object{{"tracking_id", {{"S", "T1"}}}, {"sk", {{"S", "STATE"}}}}},
        {"ConditionExpression", "attribute_not_exists(sk)"}};
    ASSERT_TRUE(c.call("PutItem", put));
    const auto dup = c.call("PutItem", put);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().kind, aws::error_kind::conditional_check_failed) << dup.error().describe();

    const boost::json::object tx{{"TransactItems", boost::json::array{boost::json::object{{"Put", put}}}}};
    const auto canceled = c.call("TransactWriteItems", tx);
    ASSERT_FALSE(canceled);
    EXPECT_EQ(canceled.error().kind, aws::error_kind::transaction_canceled) << canceled.error().describe();
    EXPECT_EQ(canceled.error().cancellation_reasons, std::vector<std::string>{"ConditionalCheckFailed"});
    EXPECT_TRUE(canceled.error().condition_failed());
}

int run(const std::string& command, std::string& output) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
    std::array<char, 512> buf{};
    while (pipe && fgets(buf.data(), buf.size(), pipe.get())) output += buf.data();
    const int status = pclose(pipe.release());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Moto, CreateTableCommandCreatesTheSchemaAndIsIdempotent) {
    const auto config = moto_config();
    const std::string table = unique_table("cli");
    const std::string env = "AWS_ENDPOINT_URL_DYNAMODB='" + config.endpoint + "' AWS_REGION='" + config.region +
                            "' AWS_ACCESS_KEY_ID='" + config.creds.access_key_id + "' AWS_SECRET_ACCESS_KEY='" +
                            config.creds.secret_access_key + "' TABLE_NAME='" + table + "' ";
    std::string out;
    ASSERT_EQ(run(env + DINEX_BINARY " create-table --wait", out), 0) << out;
    EXPECT_NE(out.find("created table " + table), std::string::npos) << out;
    EXPECT_NE(out.find("ACTIVE"), std::string::npos) << out;
    out.clear();
    ASSERT_EQ(run(env + DINEX_BINARY " create-table", out), 0) << out;
    EXPECT_NE(out.find("already exists"), std::string::npos) << out;

    auto c = client_for(config);
    const auto d = c.call("DescribeTable", boost::json::object{{"TableName", table}});
    ASSERT_TRUE(d) << d.error().describe();
    const auto& t = d->at("Table").as_object();
    EXPECT_EQ(t.at("TableStatus").as_string(), "ACTIVE");
    EXPECT_EQ(t.at("KeySchema").as_array(), store::dynamodb_schema::create_table_request(table).at("KeySchema").as_array());
    EXPECT_EQ(t.at("BillingModeSummary").at("BillingMode").as_string(), "PAY_PER_REQUEST");
    const auto& gsi = t.at("GlobalSecondaryIndexes").as_array().at(0).as_object();
    EXPECT_EQ(gsi.at("IndexName").as_string(), "status-updated-index");
    EXPECT_EQ(gsi.at("KeySchema").at(0).at("AttributeName").as_string(), "gsi_status");
    EXPECT_EQ(gsi.at("KeySchema").at(1).at("AttributeName").as_string(), "gsi_updated_at");
    EXPECT_EQ(t.at("SSEDescription").at("Status").as_string(), "ENABLED");

    const auto ttl = c.call("DescribeTimeToLive", boost::json::object{{"TableName", table}});
    ASSERT_TRUE(ttl) << ttl.error().describe();
    EXPECT_EQ(ttl->at("TimeToLiveDescription").at("TimeToLiveStatus").as_string(), "ENABLED");
    EXPECT_EQ(ttl->at("TimeToLiveDescription").at("AttributeName").as_string(), "expires_at");
}

TEST(Moto, CreateTableFailsClearlyWithoutCredentials) {
    std::string out;
    EXPECT_EQ(run("env -i TABLE_NAME=x " DINEX_BINARY " create-table", out), 2);
    EXPECT_NE(out.find("AWS_ACCESS_KEY_ID"), std::string::npos) << out;
}


// A batch whose write fails for one package, through the fake at the HTTP seam in front of moto:
// the other packages are stored, that package's items fail and nothing of them is written, and the
// same batch sent again stores them while the rest answer as replays (docs/DYNAMODB.md, Batches).
TEST(Moto, ABatchWhoseWriteFailsForOnePackageStoresTheOthersAndARetryCompletesIt) {
    const auto config = moto_config();
    const std::string table = unique_table("partial");
    {
        auto setup = client_for(config);
        ASSERT_TRUE(setup.call("CreateTable", store::dynamodb_schema::create_table_request(table)));
    }
    auto real = std::make_shared<aws::http_client>();
    testing::fake_aws_http http{[real](const aws::http_request& r) { return real->send(r); }};
    std::atomic<bool> failing = true;
    http.on_match(
        [&failing](const aws::http_request& r) {
            return failing && testing::header_of(r, "X-Amz-Target") == "DynamoDB_20120810.TransactWriteItems" &&
                   r.body.find("PARTB") != std::string::npos;
        },
        testing::fake_aws_http::status(
            400, R"({"__type":"com.amazon.coral.validate#ValidationException","message":"injected"})"));
    aws::dynamodb_options o;
    o.service = config;
    o.sleep = [](std::chrono::milliseconds) {};
    o.send = http.send();
    store::dynamodb_store_options so;
    so.table = table;
    so.client = std::make_shared<aws::dynamodb_client>(std::move(o));
    store::dynamodb_store s(std::move(so));

    const core::millis now = 1'795'946'400'000;
    auto sub = [&](std::string id, std::string event_id, core::status st, core::millis ts) {
        return testing::given_submission(std::move(id), std::move(event_id), st, ts, now);
    };
    const std::vector<core::submission> batch = {
        sub("PARTA", "a1", core::status::picked_up, now - 3000), sub("PARTB", "b1", core::status::picked_up, now - 3000),
        sub("PARTA", "a2", core::status::in_transit, now - 2000), sub("PARTB", "b2", core::status::in_transit, now - 2000),
        sub("PARTC", "c1", core::status::picked_up, now - 1000)};
    auto run_batch = [&] {
        std::promise<std::vector<core::result<core::append_outcome>>> p;
        auto f = p.get_future();
        s.append_batch(batch, core::lifecycle_policy{}, [&p](auto r) { p.set_value(std::move(r)); });
        return f.get();
    };

    const auto first = run_batch();
    ASSERT_EQ(first.size(), batch.size());
    for (const std::size_t i : {0U, 2U, 4U}) {
        ASSERT_TRUE(first[i]) << i << ": " << first[i].error().message;
        EXPECT_EQ(first[i]->kind, core::outcome_kind::created) << i;
    }
    for (const std::size_t i : {1U, 3U}) {
        ASSERT_FALSE(first[i]) << i;
        EXPECT_EQ(first[i].error().code, core::errc::internal) << i << ": " << first[i].error().message;
    }
    const auto b = s.find("PARTB", now, 100);
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_FALSE(b->has_value()) << "nothing of the failed package was written";
    const auto a = s.find("PARTA", now, 100);
    ASSERT_TRUE(a && a->has_value());
    EXPECT_EQ((*a)->events.size(), 2U);

    failing = false;  // the cause went away: the client sends the same batch again
    const auto second = run_batch();
    ASSERT_EQ(second.size(), batch.size());
    for (std::size_t i = 0; i < second.size(); ++i) {
        ASSERT_TRUE(second[i]) << i << ": " << second[i].error().message;
        EXPECT_EQ(second[i]->kind, i % 2 == 1 ? core::outcome_kind::created : core::outcome_kind::replay) << i;
    }
    const auto healed_b = s.find("PARTB", now, 100);
    ASSERT_TRUE(healed_b && healed_b->has_value());
    EXPECT_EQ((*healed_b)->events.size(), 2U);
    EXPECT_EQ((*healed_b)->state.state, core::status::in_transit);
}

}  // namespace
}  // namespace dinex

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
#include <optional>
#include <thread>

#include "../support/fake_aws_http.hpp"
#include "../support/stores.hpp"
#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex {
namespace {

aws::service_config moto_config() {
    const char* path = std::getenv("DINEX_MOTO_STATE");
    if (!path)
        throw std::runtime_error(
            "DINEX_MOTO_STATE is not set: run these tests through ctest (fixture moto_start)");
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
    EXPECT_TRUE(refused.error().type == "InvalidSignatureException" ||
                refused.error().type == "SignatureDoesNotMatch")
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
    const std::string env = "AWS_ENDPOINT_URL_DYNAMODB='" + config.endpoint + "' AWS_REGION='" +
                            config.region + "' AWS_ACCESS_KEY_ID='" + config.creds.access_key_id +
                            "' AWS_SECRET_ACCESS_KEY='" + config.creds.secret_access_key + "' TABLE_NAME='" +
                            table + "' ";
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
    EXPECT_EQ(t.at("KeySchema").as_array(),
              store::dynamodb_schema::create_table_request(table).at("KeySchema").as_array());
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
            // The commit of PARTB's chunk: the conditional put of its state item.
            return failing && testing::header_of(r, "X-Amz-Target") == "DynamoDB_20120810.PutItem" &&
                   r.body.find("PARTB") != std::string::npos &&
                   r.body.find(R"("STATE")") != std::string::npos;
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
    const std::vector<core::submission> batch = {sub("PARTA", "a1", core::status::picked_up, now - 3000),
                                                 sub("PARTB", "b1", core::status::picked_up, now - 3000),
                                                 sub("PARTA", "a2", core::status::in_transit, now - 2000),
                                                 sub("PARTB", "b2", core::status::in_transit, now - 2000),
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
        EXPECT_EQ(second[i]->kind, i % 2 == 1 ? core::outcome_kind::created : core::outcome_kind::replay)
            << i;
    }
    const auto healed_b = s.find("PARTB", now, 100);
    ASSERT_TRUE(healed_b && healed_b->has_value());
    EXPECT_EQ((*healed_b)->events.size(), 2U);
    EXPECT_EQ((*healed_b)->state.state, core::status::in_transit);
}

// A store on moto through the fake at the HTTP seam, on a table of its own (tests below).
struct faulty_store {
    aws::service_config config = moto_config();
    std::string table;
    std::shared_ptr<aws::http_client> real = std::make_shared<aws::http_client>();
    testing::fake_aws_http http{[real = real](const aws::http_request& r) { return real->send(r); }};
    std::shared_ptr<aws::dynamodb_client> client;
    std::unique_ptr<store::dynamodb_store> store;

    explicit faulty_store(const char* prefix, std::string existing_table = {})
        : table(std::move(existing_table)) {
        if (table.empty()) {
            table = unique_table(prefix);
            auto setup = client_for(config);
            const auto created =
                setup.call("CreateTable", store::dynamodb_schema::create_table_request(table));
            if (!created) throw std::runtime_error(created.error().describe());
        }
        aws::dynamodb_options o;
        o.service = config;
        o.sleep = [](std::chrono::milliseconds) {};
        o.send = http.send();
        client = std::make_shared<aws::dynamodb_client>(std::move(o));
        store::dynamodb_store_options so;
        so.table = table;
        so.client = client;
        store = std::make_unique<store::dynamodb_store>(std::move(so));
    }
    core::result<core::append_outcome> append(const core::submission& sub) {
        return testing::append_and_wait(*store, sub, core::lifecycle_policy{});
    }
    // The item under (tracking_id, sk), read directly.
    std::optional<boost::json::object> item(std::string_view tracking_id, std::string_view sk) {
        const auto r = client->call(
            "GetItem", boost::json::object{{"TableName", table},
                                           {"Key", boost::json::object{{"tracking_id", {{"S", tracking_id}}},
                                                                       {"sk", {{"S", sk}}}}},
                                           {"ConsistentRead", true}});
        if (!r) throw std::runtime_error(r.error().describe());
        const auto* found = r->as_object().if_contains("Item");
        if (!found) return std::nullopt;
        return found->as_object();
    }
    void put(const boost::json::object& item) {
        const auto r = client->call("PutItem", boost::json::object{{"TableName", table}, {"Item", item}});
        if (!r) throw std::runtime_error(r.error().describe());
    }
};

bool is_event_put(const aws::http_request& r) {
    return testing::header_of(r, "X-Amz-Target") == "DynamoDB_20120810.PutItem" &&
           r.body.find(R"("STATE")") == std::string::npos;
}

constexpr core::millis moto_now = 1'795'946'400'000;

// The write commits with the state item; the event's own item follows. When that second put fails,
// the append is still acknowledged and durable: readers take the event from the state's `pending`,
// and the package's next write puts the item (docs/DYNAMODB.md, "The write algorithm").
TEST(Moto, AnEventWhoseItemWasNotWrittenIsReadFromTheStateAndWrittenByTheNextWrite) {
    faulty_store f("pending");
    std::atomic<bool> failing = true;
    f.http.on_match(
        [&failing](const aws::http_request& r) { return failing && is_event_put(r); },
        testing::fake_aws_http::status(500, R"({"__type":"com.amazon.coral.service#InternalServerError"})"));
    const auto first = f.append(
        testing::given_submission("PEND1", "p1", core::status::picked_up, moto_now - 2000, moto_now));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->kind, core::outcome_kind::created);
    const std::string first_sk = store::dynamodb_items::event_sort_key(moto_now - 2000, 1);
    EXPECT_FALSE(f.item("PEND1", first_sk)) << "the injected failure kept the event item out";

    const auto seen = f.store->find("PEND1", moto_now, 10);
    ASSERT_TRUE(seen && *seen);
    ASSERT_EQ((*seen)->events.size(), 1U);
    EXPECT_EQ((*seen)->events[0], first->stored);
    const auto replay = f.append(
        testing::given_submission("PEND1", "p1", core::status::picked_up, moto_now - 2000, moto_now));
    ASSERT_TRUE(replay);
    EXPECT_EQ(replay->kind, core::outcome_kind::replay);

    failing = false;
    const auto second = f.append(
        testing::given_submission("PEND1", "p2", core::status::in_transit, moto_now - 1000, moto_now));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->kind, core::outcome_kind::created);
    const auto repaired = f.item("PEND1", first_sk);
    ASSERT_TRUE(repaired) << "the next write put the first event's item";
    EXPECT_EQ(store::dynamodb_items::decode_event(*repaired).value(), first->stored);
    const auto after = f.store->find("PEND1", moto_now, 10);
    ASSERT_TRUE(after && *after);
    ASSERT_EQ((*after)->events.size(), 2U);
    EXPECT_EQ((*after)->events[0], second->stored);
    EXPECT_EQ((*after)->events[1], first->stored);
    EXPECT_EQ((*after)->state.event_count, 2U);
}

// A late event's item (below the newest events the write reads) is checked with a GetItem and put
// again when missing; the history keeps its place for it meanwhile.
TEST(Moto, ALateEventWhoseItemWasNotWrittenKeepsItsPlaceAndIsRepaired) {
    faulty_store f("late");
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(
            f.append(testing::given_submission("LATE1", "n" + std::to_string(i), core::status::in_transit,
                                               moto_now - 100'000 + i * 1000, moto_now)));
    }
    std::atomic<bool> failing = true;
    f.http.on_match(
        [&failing](const aws::http_request& r) { return failing && is_event_put(r); },
        testing::fake_aws_http::status(500, R"({"__type":"com.amazon.coral.service#InternalServerError"})"));
    const auto late = f.append(
        testing::given_submission("LATE1", "old", core::status::picked_up, moto_now - 200'000, moto_now));
    ASSERT_TRUE(late);
    EXPECT_EQ(late->kind, core::outcome_kind::late_arrival);
    const auto seen = f.store->find("LATE1", moto_now, 100);
    ASSERT_TRUE(seen && *seen);
    ASSERT_EQ((*seen)->events.size(), 11U);
    EXPECT_EQ((*seen)->events.back(), late->stored) << "the oldest, from the state's pending";
    const auto window = f.store->find("LATE1", moto_now, 5);
    ASSERT_TRUE(window && *window);
    EXPECT_EQ((*window)->events.size(), 5U);
    EXPECT_NE((*window)->events.back(), late->stored);

    failing = false;
    ASSERT_TRUE(f.append(
        testing::given_submission("LATE1", "n10", core::status::in_transit, moto_now - 1000, moto_now)));
    EXPECT_TRUE(f.item("LATE1", store::dynamodb_items::event_sort_key(moto_now - 200'000, 11)));
}

// Two stores (two processes' worth: each takes turns only with itself) writing distinct events of
// one package at once: the conditional put orders them, nothing is lost or counted twice.
TEST(Moto, TwoStoresWritingOnePackageKeepEveryEvent) {
    faulty_store a("twostores");
    faulty_store b("twostores", a.table);
    constexpr int per_thread = 12;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            faulty_store& f = t % 2 == 0 ? a : b;
            for (int i = 0; i < per_thread; ++i) {
                const auto r = f.append(testing::given_submission(
                    "BOTH1", "t" + std::to_string(t) + "-" + std::to_string(i), core::status::in_transit,
                    moto_now - 100'000 + t * 1000 + i, moto_now));
                if (r && r->kind != core::outcome_kind::replay) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 4 * per_thread);
    const auto p = a.store->find("BOTH1", moto_now, 1000);
    ASSERT_TRUE(p && *p);
    EXPECT_EQ((*p)->events.size(), 4U * per_thread);
    EXPECT_EQ((*p)->state.event_count, 4U * per_thread);
    EXPECT_EQ((*p)->state.timestamp, moto_now - 100'000 + 3 * 1000 + per_thread - 1);
}

// A retry of an event that is neither the newest nor in the state's pending, without its timestamp
// (so with a new receive time): its id's digest is in the state, and the history finds it.
TEST(Moto, ARetryOfAnOldEventWithoutItsTimestampIsAReplay) {
    faulty_store f("oldretry");
    std::vector<core::append_outcome> stored;
    for (int i = 0; i < 12; ++i) {
        const auto r =
            f.append(testing::given_submission("OLD1", "o" + std::to_string(i), core::status::in_transit,
                                               moto_now - 100'000 + i * 1000, moto_now - 50'000));
        ASSERT_TRUE(r);
        stored.push_back(*r);
    }
    auto retry = testing::given_submission("OLD1", "o1", core::status::in_transit, moto_now, moto_now);
    retry.timestamp_given = false;
    const auto r = f.append(retry);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->kind, core::outcome_kind::replay);
    EXPECT_EQ(r->stored, stored[1].stored);
    // The same id with another status is not a replay: the stored event is compared.
    auto reused =
        testing::given_submission("OLD1", "o1", core::status::delivered, moto_now - 99'000, moto_now);
    const auto refused = f.append(reused);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, core::errc::conflict);
    ASSERT_EQ(refused.error().details.size(), 1U);
    EXPECT_EQ(refused.error().details[0].rule, "idempotency_key_reused");
}

// A state item that names the digest of an id no stored event has (a digest collision, or an event
// that expired): the id is new.
TEST(Moto, ADigestWithoutItsEventDoesNotMakeAReplay) {
    faulty_store f("collision");
    ASSERT_TRUE(f.append(
        testing::given_submission("COLL1", "c0", core::status::picked_up, moto_now - 5000, moto_now)));
    auto state = f.item("COLL1", "STATE").value();
    auto decoded = store::dynamodb_items::decode_state(state).value();
    decoded.extras.event_id_digests->append(store::dynamodb_items::event_id_digest("c-new"));
    decoded.extras.pending.clear();
    f.put(store::dynamodb_items::encode_state(decoded.state, decoded.version + 1, decoded.extras));
    const auto r = f.append(
        testing::given_submission("COLL1", "c-new", core::status::in_transit, moto_now - 1000, moto_now));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->kind, core::outcome_kind::created);
}

// Packages written before the digests existed (state without `event_ids`, events with DEDUP#
// markers) keep their idempotency: the markers are asked, and the next state records that.
TEST(Moto, PackagesWrittenWithMarkersKeepTheirReplays) {
    namespace items = store::dynamodb_items;
    faulty_store f("legacy");
    core::event e;
    e.tracking_id = "LEG1";
    e.event_id = "legacy-1";
    e.state = core::status::picked_up;
    e.location = "Lima";
    e.timestamp = moto_now - 9000;
    e.received_at = moto_now - 9000;
    e.sequence = 1;
    core::package_state s;
    s.tracking_id = "LEG1";
    s.state = e.state;
    s.location = e.location;
    s.timestamp = e.timestamp;
    s.event_id = e.event_id;
    s.created_at = e.received_at;
    s.updated_at = e.received_at;
    s.expires_at = moto_now + 86'400'000;
    s.event_count = 1;
    f.put(items::encode_state(s, 1));  // the old format: no event_ids, no pending
    f.put(items::encode_event(e, s.expires_at));
    f.put(items::encode_marker(e, s.expires_at));

    ASSERT_TRUE(f.append(
        testing::given_submission("LEG1", "new-1", core::status::in_transit, moto_now - 5000, moto_now)));
    auto retry = testing::given_submission("LEG1", "legacy-1", core::status::picked_up, moto_now, moto_now);
    retry.timestamp_given = false;
    const auto r = f.append(retry);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->kind, core::outcome_kind::replay);
    EXPECT_EQ(r->stored, e);
    const auto now_state = items::decode_state(f.item("LEG1", "STATE").value()).value();
    EXPECT_TRUE(now_state.extras.legacy_markers);
    EXPECT_EQ(now_state.extras.event_id_digests, items::event_id_digest("new-1"));
}

}  // namespace
}  // namespace dinex

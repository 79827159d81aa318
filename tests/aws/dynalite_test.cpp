// What dynalite (a second, independent DynamoDB implementation; no transactions, no TTL API)
// can check: the table definition, and the store's reads over items written with PutItem.
// The test starts dynalite itself (node, in memory, a free port) and stops it at the end.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "../support/stores.hpp"
#include "aws/dynamodb_client.hpp"
#include "store/dynamodb/dynamodb_store.hpp"
#include "store/dynamodb/item_codec.hpp"
#include "store/dynamodb/table_schema.hpp"

namespace dinex {
namespace {

namespace items = store::dynamodb_items;
constexpr core::millis t0 = 1'764'403'200'000;

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

class Dynalite : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const std::filesystem::path cli = DINEX_DYNALITE_DIR "/node_modules/dynalite/cli.js";
        if (!std::filesystem::exists(cli)) {
            setup_error_ =
                "dynalite is not installed: run `npm ci` in tests/aws/node (" + cli.string() + " missing)";
            return;
        }
        port_ = free_port();
        pid_ = ::fork();
        if (pid_ == 0) {
            const std::string port = std::to_string(port_);
            ::execlp("node", "node", cli.c_str(), "--port", port.c_str(), "--createTableMs", "0",
                     static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 200 && !accepts(port_); ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                setup_error_ = "dynalite exited at start (is node installed?)";
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (!accepts(port_)) setup_error_ = "dynalite did not listen on port " + std::to_string(port_);
    }
    static void TearDownTestSuite() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    void SetUp() override {
        ASSERT_TRUE(setup_error_.empty()) << setup_error_;
        aws::dynamodb_options o;
        o.service.endpoint = "http://127.0.0.1:" + std::to_string(port_);
        o.service.region = "us-east-1";
        o.service.creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
        o.sleep = [](std::chrono::milliseconds) {};
        client_ = std::make_shared<aws::dynamodb_client>(std::move(o));
        table_ = "dynalite-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
        const auto created =
            client_->call("CreateTable", store::dynamodb_schema::create_table_request(table_));
        ASSERT_TRUE(created) << created.error().describe();
        // dynalite keeps a new table CREATING for a while, as DynamoDB does.
        for (int i = 0; i < 250; ++i) {
            const auto d = client_->call("DescribeTable", boost::json::object{{"TableName", table_}});
            ASSERT_TRUE(d) << d.error().describe();
            if (d->at("Table").at("TableStatus").as_string() == "ACTIVE") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        store_ = std::make_unique<store::dynamodb_store>(
            store::dynamodb_store_options{.table = table_, .client = client_});
    }
    void put(const boost::json::object& item) {
        const auto r = client_->call("PutItem", boost::json::object{{"TableName", table_}, {"Item", item}});
        ASSERT_TRUE(r) << r.error().describe();
    }

    static inline int port_ = 0;
    static inline pid_t pid_ = -1;
    static inline std::string setup_error_;
    std::shared_ptr<aws::dynamodb_client> client_;
    std::string table_;
    std::unique_ptr<store::dynamodb_store> store_;
};

TEST_F(Dynalite, TheTableDefinitionIsAccepted) {
    const auto d = client_->call("DescribeTable", boost::json::object{{"TableName", table_}});
    ASSERT_TRUE(d) << d.error().describe();
    const auto& t = d->at("Table").as_object();
    EXPECT_EQ(t.at("KeySchema").as_array(),
              store::dynamodb_schema::create_table_request(table_).at("KeySchema").as_array());
    EXPECT_EQ(t.at("GlobalSecondaryIndexes").at(0).at("IndexName").as_string(), "status-updated-index");
    const auto again = client_->call("CreateTable", store::dynamodb_schema::create_table_request(table_));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, aws::error_kind::resource_in_use) << again.error().describe();
}

TEST_F(Dynalite, PingAnswersAndAMissingTableIsUnavailable) {
    EXPECT_TRUE(store_->ping());
    store::dynamodb_store missing({.table = "no-such-table", .client = client_});
    const auto r = missing.ping();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::errc::unavailable);
}

TEST_F(Dynalite, FindOnAnEmptyTable) {
    const auto r = store_->find("TRK1", t0, 10);
    ASSERT_TRUE(r) << r.error().internal_message;
    EXPECT_FALSE(*r);
}

TEST_F(Dynalite, FindReadsSeededItemsNewestFirstAndHidesMarkersAndExpiredItems) {
    core::package_state s;
    s.tracking_id = "TRK2";
    s.state = core::status::in_transit;
    s.location = "Lima";
    s.timestamp = t0 + 3;
    s.event_id = "e3";
    s.created_at = t0;
    s.updated_at = t0 + 10;
    s.expires_at = t0 + 1'000'000;
    s.event_count = 4;
    put(items::encode_state(s, 4));
    std::vector<core::event> written;
    for (int i = 0; i < 4; ++i) {
        core::event e;
        e.tracking_id = "TRK2";
        e.event_id = "e" + std::to_string(i);
        e.state = core::status::in_transit;
        e.location = "stop " + std::to_string(i);
        e.timestamp = t0 + i;
        e.received_at = t0 + 10;
        written.push_back(e);
        put(items::encode_event(e, i == 0 ? t0 + 5 : s.expires_at));  // e0 expires early
        put(items::encode_marker(e, s.expires_at));
    }
    const auto all = store_->find("TRK2", t0 + 100, 10);
    ASSERT_TRUE(all && *all) << (all ? "absent" : all.error().internal_message);
    EXPECT_EQ((*all)->state, s);
    ASSERT_EQ((*all)->events.size(), 3U);  // e0 expired; no markers
    EXPECT_EQ((*all)->events[0], written[3]);
    EXPECT_EQ((*all)->events[2], written[1]);
    const auto two = store_->find("TRK2", t0 + 100, 2);
    ASSERT_TRUE(two && *two);
    EXPECT_EQ((*two)->events.size(), 2U);
    // Past the package's own expiry it is gone, whether or not TTL has deleted it.
    EXPECT_FALSE(store_->find("TRK2", s.expires_at + 1, 10).value());
}

// The write path needs no transactions (one conditional PutItem commits), so a second, independent
// implementation of the protocol checks it too: new, late, replayed and batched events.
TEST_F(Dynalite, AppendsCommitWithOneConditionalPutAndBatchesWriteTheirEvents) {
    const core::lifecycle_policy policy;
    const auto first = testing::append_and_wait(
        *store_, testing::given_submission("TRK3", "a", core::status::picked_up, t0, t0 + 10), policy);
    ASSERT_TRUE(first) << first.error().internal_message;
    EXPECT_EQ(first->kind, core::outcome_kind::created);
    auto retry = testing::given_submission("TRK3", "a", core::status::picked_up, t0 + 50, t0 + 50);
    retry.timestamp_given = false;
    const auto replay = testing::append_and_wait(*store_, retry, policy);
    ASSERT_TRUE(replay) << replay.error().internal_message;
    EXPECT_EQ(replay->kind, core::outcome_kind::replay);
    EXPECT_EQ(replay->stored, first->stored);

    // 11 events in one batch: two chunks, each committed by its state put, then BatchWriteItem.
    std::vector<core::submission> batch;
    for (int i = 0; i < 11; ++i) {
        batch.push_back(testing::given_submission("TRK3", "b" + std::to_string(i), core::status::in_transit,
                                                  t0 + 1000 + i, t0 + 20));
    }
    batch.push_back(testing::given_submission("TRK3", "late", core::status::info_received, t0 - 5, t0 + 20));
    std::promise<std::vector<core::result<core::append_outcome>>> done;
    store_->append_batch(batch, policy, [&done](auto r) { done.set_value(std::move(r)); });
    const auto results = done.get_future().get();
    ASSERT_EQ(results.size(), batch.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i]) << i << ": " << results[i].error().internal_message;
        EXPECT_EQ(results[i]->kind,
                  i + 1 < results.size() ? core::outcome_kind::created : core::outcome_kind::late_arrival)
            << i;
    }
    const auto p = store_->find("TRK3", t0 + 100, 100);
    ASSERT_TRUE(p && *p) << (p ? "absent" : p.error().internal_message);
    ASSERT_EQ((*p)->events.size(), 13U);
    EXPECT_EQ((*p)->state.event_count, 13U);
    EXPECT_EQ((*p)->events.front().event_id, "b10");
    EXPECT_EQ((*p)->events.back().event_id, "late");
    // Every event has its own item (not only the state's pending): read them past the state.
    const auto items_read = client_->call(
        "Query",
        boost::json::object{{"TableName", table_},
                            {"KeyConditionExpression", "tracking_id = :t AND begins_with(sk, :e)"},
                            {"ExpressionAttributeValues",
                             boost::json::object{{":t", {{"S", "TRK3"}}}, {":e", {{"S", "EVENT#"}}}}},
                            {"ConsistentRead", true}});
    ASSERT_TRUE(items_read) << items_read.error().describe();
    EXPECT_EQ(items_read->at("Items").as_array().size(), 13U);
}

}  // namespace
}  // namespace dinex

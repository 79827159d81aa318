// The HTTPS path of the AWS HTTP client against a real TLS server (tests/aws/tls_server.py: Python's
// ssl module, a throw-away CA and certificates made with the openssl CLI at start): trust through
// ca_file, refusal with the system store only, host name checking, SNI, keep-alive reuse over TLS,
// and servers that close connections or never answer.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aws/http_client.hpp"

namespace dinex::aws {
namespace {

namespace json = boost::json;

class Tls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        int to_child[2];
        int from_child[2];
        if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) {
            setup_error_ = "pipe failed";
            return;
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(to_child[0], 0);
            ::dup2(from_child[1], 1);
            ::close(to_child[0]);
            ::close(to_child[1]);
            ::close(from_child[0]);
            ::close(from_child[1]);
            ::execl(DINEX_TLS_PYTHON, DINEX_TLS_PYTHON, DINEX_TLS_SERVER, static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(to_child[0]);
        ::close(from_child[1]);
        stdin_of_server_ = to_child[1];  // closing it stops the server
        std::string line;
        char ch = 0;
        while (::read(from_child[0], &ch, 1) == 1 && ch != '\n') line.push_back(ch);
        ::close(from_child[0]);
        boost::system::error_code ec;
        const auto doc = json::parse(line, ec);
        if (ec || !doc.is_object()) {
            setup_error_ = "the TLS server did not start (openssl or python3 missing?): '" + line + "'";
            return;
        }
        ca_ = json::value_to<std::string>(doc.at("ca"));
        good_ = std::to_string(doc.at("good_port").to_number<int>());
        wrong_ = std::to_string(doc.at("wrong_port").to_number<int>());
    }

    static void TearDownTestSuite() {
        stats_client_.reset();  // it trusts this run's CA only
        if (stdin_of_server_ >= 0) ::close(stdin_of_server_);
        if (pid_ > 0) {
            // It exits when its stdin closes; give it a moment, then make sure.
            int status = 0;
            for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (::kill(pid_, 0) == 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
        }
    }

    void SetUp() override {
        if (!setup_error_.empty()) GTEST_FAIL() << setup_error_;
    }

    static http_client_options trusting() {
        http_client_options o;
        o.tls_settings.ca_file = ca_;
        o.connect_timeout = std::chrono::milliseconds(3000);
        o.request_timeout = std::chrono::milliseconds(5000);
        return o;
    }

    static http_request get(const std::string& base, const std::string& path) {
        http_request r;
        r.method = "GET";
        r.url = base;
        r.path = path;
        return r;
    }

    static json::object body_of(const http_response& r) { return json::parse(r.body).as_object(); }

    static std::string localhost() { return "https://localhost:" + good_; }

    // The server's counters, through a client of its own (kept alive: one connection in all).
    static json::object stats() {
        if (!stats_client_) stats_client_ = std::make_unique<http_client>(trusting());
        auto r = stats_client_->send(get(localhost(), "/stats"));
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? body_of(*r) : json::object{};
    }

    static inline std::unique_ptr<http_client> stats_client_;
    static inline pid_t pid_ = -1;
    static inline int stdin_of_server_ = -1;
    static inline std::string setup_error_;
    static inline std::string ca_;
    static inline std::string good_;
    static inline std::string wrong_;
};

TEST_F(Tls, SucceedsWhenCaFileNamesTheIssuer) {
    http_client client(trusting());
    auto r = client.send(get(localhost(), "/hello"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(body_of(*r).at("path").as_string(), "/hello");
}

TEST_F(Tls, IpAddressIsCheckedAgainstTheIpSubjectAltName) {
    http_client client(trusting());
    auto r = client.send(get("https://127.0.0.1:" + good_, "/ip"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
}

TEST_F(Tls, FailsWithTheSystemStoreOnly) {
    http_client client;  // system CA store: our throw-away CA is not in it
    auto r = client.send(get(localhost(), "/hello"));
    ASSERT_FALSE(r) << "answered " << r->status << " by an untrusted server";
    EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
    EXPECT_EQ(client.idle_connections(), 0U);
}

TEST_F(Tls, OneSharedContextLoadsItsTrustStoreOnceForEveryClient) {
    // As in the Lambda: DynamoDB and SNS clients share the process's context. The bundle is
    // parsed at the first TLS connection, not when the context or the clients are made.
    auto shared = std::make_shared<tls_context>(trust_store{.file = ca_, .directory = {}, .source = "test"},
                                                tls_options{});
    http_client_options o = trusting();
    o.tls_settings = {};
    o.tls = shared;
    http_client dynamodb(o), sns(o);
    EXPECT_EQ(shared->loads(), 0);
    auto a = dynamodb.send(get(localhost(), "/a"));
    ASSERT_TRUE(a) << a.error().message;
    auto b = sns.send(get("https://127.0.0.1:" + good_, "/b"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(shared->loads(), 1);
}

TEST_F(Tls, AnotherCasBundleFailsWithTheVerifyReason) {
    // The system bundle trusts many CAs, but not this server's: the error says why, for the log.
    auto shared = tls_context::for_this_system();
    ASSERT_TRUE(shared->trust()) << shared->trust().error();
    http_client_options o = trusting();
    o.tls = shared;
    http_client client(o);
    auto r = client.send(get(localhost(), "/hello"));
    ASSERT_FALSE(r) << "answered " << r->status << " by an untrusted server";
    EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("unable to get local issuer certificate"), std::string::npos)
        << r.error().message;
}

TEST_F(Tls, ATrustStoreThatCannotBeLoadedIsTheErrorOfEveryTlsCall) {
    auto broken = std::make_shared<tls_context>(
        trust_store{.file = "/proc/self/status", .directory = {}, .source = "test"}, tls_options{});
    http_client_options o = trusting();
    o.tls = broken;
    http_client client(o);
    auto r = client.send(get(localhost(), "/hello"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("cannot load the CA trust store file /proc/self/status"),
              std::string::npos)
        << r.error().message;
}

TEST_F(Tls, FailsWhenTheCertificateNamesAnotherHost) {
    http_client client(trusting());  // the issuer is trusted; only the name is wrong
    for (const std::string& base : {"https://localhost:" + wrong_, "https://127.0.0.1:" + wrong_}) {
        auto r = client.send(get(base, "/hello"));
        ASSERT_FALSE(r) << base << " answered " << r->status;
        EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(client.idle_connections(), 0U);
}

TEST_F(Tls, SendsServerNameForHostNamesButNotForIpAddresses) {
    http_client client(trusting());
    auto by_name = client.send(get(localhost(), "/sni"));
    ASSERT_TRUE(by_name) << by_name.error().message;
    EXPECT_EQ(body_of(*by_name).at("sni"), json::value("localhost"));
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
    auto by_ip = client.send(get("https://127.0.0.1:" + good_, "/sni"));
    ASSERT_TRUE(by_ip) << by_ip.error().message;
    EXPECT_TRUE(body_of(*by_ip).at("sni").is_null()) << body_of(*by_ip);
}

TEST_F(Tls, KeepAliveReusesOneConnection) {
    const auto before = stats();
    http_client client(trusting());
    auto a = client.send(get(localhost(), "/one"));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(client.idle_connections(), 1U);
    auto b = client.send(get(localhost(), "/two"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(body_of(*a).at("conn"), body_of(*b).at("conn"));
    const auto after = stats();
    EXPECT_EQ(after.at("accepted").to_number<int>() - before.at("accepted").to_number<int>(), 1);
    EXPECT_EQ(after.at("handshakes").to_number<int>() - before.at("handshakes").to_number<int>(), 1);
    EXPECT_EQ(client.idle_connections(), 1U);
}

// A pooled connection the server closed while idle (no close_notify, as when a server or load
// balancer drops it) is replaced once, transparently.
TEST_F(Tls, PooledConnectionClosedByTheServerIsReplaced) {
    http_client client(trusting());
    const int closed_before = stats().at("closed").to_number<int>();
    auto a = client.send(get(localhost(), "/close-after"));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(client.idle_connections(), 1U);  // the answer said nothing about closing
    // Wait until the server has closed it (a condition, not a duration).
    for (int i = 0; i < 200 && stats().at("closed").to_number<int>() <= closed_before; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GT(stats().at("closed").to_number<int>(), closed_before);
    auto b = client.send(get(localhost(), "/after"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->status, 200);
    EXPECT_NE(body_of(*a).at("conn"), body_of(*b).at("conn"));
    EXPECT_EQ(client.idle_connections(), 1U);
}

TEST_F(Tls, ConnectionCloseAnswerIsNotPooled) {
    http_client client(trusting());
    auto a = client.send(get(localhost(), "/connection-close"));
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(client.idle_connections(), 0U);
    auto b = client.send(get(localhost(), "/next"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_NE(body_of(*a).at("conn"), body_of(*b).at("conn"));
}

TEST_F(Tls, ServerClosingWithoutAnAnswerIsAnErrorAndTheNextRequestWorks) {
    http_client client(trusting());
    auto a = client.send(get(localhost(), "/drop"));
    ASSERT_FALSE(a) << "answered " << a->status;
    EXPECT_NE(a.error().message.find("reading the answer"), std::string::npos) << a.error().message;
    EXPECT_EQ(client.idle_connections(), 0U);
    auto b = client.send(get(localhost(), "/next"));
    ASSERT_TRUE(b) << b.error().message;
}

TEST_F(Tls, ServerThatNeverAnswersHitsTheRequestDeadline) {
    auto o = trusting();
    o.request_timeout = std::chrono::milliseconds(300);
    http_client client(o);
    const auto t = std::chrono::steady_clock::now();
    auto r = client.send(get(localhost(), "/hang"));
    const auto took = std::chrono::steady_clock::now() - t;
    ASSERT_FALSE(r) << "answered " << r->status;
    EXPECT_LT(took, std::chrono::seconds(3));
    EXPECT_EQ(client.idle_connections(), 0U);
}

TEST_F(Tls, PostBodyOverTls) {
    http_client client(trusting());
    http_request r = get(localhost(), "/post");
    r.method = "POST";
    r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
    r.body = std::string(100 * 1024, 'x');  // several TLS records
    auto a = client.send(r);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(body_of(*a).at("bytes").to_number<int>(), 100 * 1024);
}

TEST_F(Tls, ManyThreadsShareThePool) {
    http_client client(trusting());
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                if (auto r = client.send(get(localhost(), "/mt")); r && r->status == 200) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 40);
    EXPECT_LE(client.idle_connections(), 4U);
}

}  // namespace
}  // namespace dinex::aws

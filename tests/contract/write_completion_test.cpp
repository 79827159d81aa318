// Item 11 of issue #15: a SQLite write completes on the writer thread, but the application's
// work after it (encoding the answer, the front-end's completion) runs where the request came in
// (api::request::resume), and a completion that throws does not end the process.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "../support/fakes.hpp"
#include "../support/sqlite.hpp"
#include "api/application.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace dinex {
namespace {

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("dinex-completion-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    temp_db() { std::filesystem::create_directories(dir); }
    ~temp_db() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::string path() const { return (dir / "t.db").string(); }
};

core::submission submission_of(std::string id, core::millis now) {
    core::submission s;
    s.incoming.tracking_id = std::move(id);
    s.incoming.event_id = "E1";
    s.incoming.state = core::status::in_transit;
    s.incoming.location = "Lima";
    s.incoming.timestamp = now;
    s.incoming.received_at = now;
    return s;
}

TEST(SqliteWriteCompletion, AThrowingCompletionCostsOnlyItsOwnRequest) {
    temp_db db;
    auto opened = testing::open_sqlite({.path = db.path()});
    ASSERT_TRUE(opened);
    auto& store = **opened;
    const core::lifecycle_policy policy{};
    const core::millis now = 1'700'000'000'000;
    store.append(submission_of("THROW01", now), policy,
                 [](core::result<core::append_outcome>) { throw std::runtime_error("completion failed"); });
    std::promise<bool> next;
    store.append(submission_of("AFTER01", now), policy,
                 [&next](core::result<core::append_outcome> r) { next.set_value(r.has_value()); });
    auto f = next.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_TRUE(f.get());
    // Both events are stored: the throw came after the commit.
    EXPECT_TRUE(store.find("THROW01", now, 10).value().has_value());
    EXPECT_TRUE(store.find("AFTER01", now, 10).value().has_value());
}

TEST(SqliteWriteCompletion, TheAnswerIsMadeOnTheRequestersThread) {
    temp_db db;
    auto opened = testing::open_sqlite({.path = db.path()});
    ASSERT_TRUE(opened);
    testing::manual_clock clock;
    testing::sequence_ids ids;
    core::tracking_service service{**opened, clock, ids};
    api::application app{service, api::app_config{.version = "test"}};

    // The requester's "executor": a queue this thread runs.
    std::mutex m;
    std::condition_variable cv;
    std::deque<api::task> queued;
    std::thread::id resumed_on;
    std::thread::id answered_on;
    bool answered = false;

    api::request req;
    req.method = "POST";
    req.path = "/tracking";
    req.body = R"({"tracking_id":"RESUME01","location":"Lima","status":"IN_TRANSIT"})";
    req.request_id = "req-resume";
    req.resume = [&](api::task t) {
        const std::lock_guard lock(m);
        resumed_on = std::this_thread::get_id();
        queued.push_back(std::move(t));
        cv.notify_all();
    };
    api::response out;
    app.handle(std::move(req), [&](api::response r) {
        answered_on = std::this_thread::get_id();
        answered = true;
        out = std::move(r);
    });
    api::task t;
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !queued.empty(); }));
        t = std::move(queued.front());
        queued.pop_front();
    }
    EXPECT_NE(resumed_on, std::this_thread::get_id());  // handed over from the writer thread
    EXPECT_FALSE(answered);                             // nothing of the answer done there
    t();
    ASSERT_TRUE(answered);
    EXPECT_EQ(answered_on, std::this_thread::get_id());
    EXPECT_EQ(out.status, 201) << out.body;
}

}  // namespace
}  // namespace dinex

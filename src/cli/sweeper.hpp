#pragma once
// Deletes expired packages on a fixed interval, on its own thread, so SQLite keeps the same
// retention promise DynamoDB's TTL keeps on AWS.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/tracking_service.hpp"
#include "obs/log.hpp"

namespace dinex::cli {

class expiry_sweeper {
public:
    expiry_sweeper(core::tracking_service& service, obs::logger& log, std::chrono::seconds interval);
    ~expiry_sweeper();
    expiry_sweeper(const expiry_sweeper&) = delete;
    expiry_sweeper& operator=(const expiry_sweeper&) = delete;

    // Finishes the sweep under way, if any, and joins the thread.
    void stop();

private:
    void run();

    core::tracking_service& service_;
    obs::logger& log_;
    std::chrono::seconds interval_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace dinex::cli

#include "cli/sweeper.hpp"

namespace dinex::cli {

expiry_sweeper::expiry_sweeper(core::tracking_service& service, obs::logger& log,
                               std::chrono::seconds interval)
    : service_(service), log_(log), interval_(interval) {
    thread_ = std::thread([this] { run(); });
}

expiry_sweeper::~expiry_sweeper() { stop(); }

void expiry_sweeper::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void expiry_sweeper::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        lock.unlock();
        const auto removed = service_.purge_expired();
        if (!removed) {
            log_.log(obs::level::warn, "expiry sweep failed",
                     {{"error", std::string_view(removed.error().internal_message)}});
        } else if (*removed > 0) {
            log_.log(obs::level::info, "expired packages deleted",
                     {{"count", static_cast<std::int64_t>(*removed)}});
        }
        lock.lock();
        if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
}

}  // namespace dinex::cli

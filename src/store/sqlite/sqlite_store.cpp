// The tracking side of sqlite_store (core::store): opening, lookups, appends through the writer's
// group commit, the listing, export and purge. The webhook side is in sqlite_webhook_store.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/listing.hpp"
#include "store/sqlite/rows.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/store_impl.hpp"

namespace dinex::store {

using sqlite_detail::read_connection;
using sqlite_detail::read_event;
using sqlite_detail::read_state;
using sqlite_detail::sqlite_failure;
using sqlite_detail::statement;

namespace {

// What an append answers when the writer cannot take it (queue full, or the store stopping).
core::error overloaded() {
    auto e = core::error::unavailable_error("sqlite: write queue full or store stopping");
    e.message = "the service is overloaded; retry shortly";
    return e;
}

}  // namespace

core::result<std::unique_ptr<sqlite_store>> sqlite_store::open(const sqlite_options& options,
                                                               core::id_generator& delivery_ids) {
    auto p = std::make_unique<impl>(options);
    std::unique_ptr<sqlite_detail::write_connection> writer;
    try {
        if (options.read_only) {
            // No writer: every write is refused as unavailable.
            const auto version_of = [](const sqlite_detail::reader_target& t) {
                return sqlite_detail::schema_version_of(t.name, t.flags);
            };
            int version = 0;
            try {
                version = version_of(p->readers.target());
            } catch (const sqlite_failure& f) {
                const int primary = f.code & 0xFF;
                std::error_code ec;
                const bool no_shm = !std::filesystem::exists(options.path + "-shm", ec);
                if (!(no_shm && (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN))) throw;
                p->readers.set_target(sqlite_detail::immutable_snapshot(options.path));
                version = version_of(p->readers.target());
            }
            if (version != schema_version) {
                return core::fail(core::error::unavailable_error(
                    "cannot read " + options.path + " read-only: its schema is version " +
                    std::to_string(version) + ", this binary reads version " +
                    std::to_string(schema_version) +
                    (version < schema_version ? " (open it once read-write, e.g. with serve, to migrate it)"
                                              : "")));
            }
        } else {
            writer = std::make_unique<sqlite_detail::write_connection>(options.path, delivery_ids);
        }
        // Fail at start-up, not on the first lookup, when readers cannot open the file.
        p->readers.open_one();
    } catch (const sqlite_failure& f) {
        auto e = sqlite_detail::to_error(f);
        e.message = "cannot open the database " + options.path + ": " + f.what();
        return core::fail(std::move(e));
    }
    if (writer) {
        p->writer = std::make_unique<sqlite_detail::group_writer>(std::move(writer), options.max_batch,
                                                                  options.max_queue);
    }
    return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

sqlite_store::~sqlite_store() { stop(); }

void sqlite_store::stop() {
    if (impl_->writer) impl_->writer->stop();
    impl_->readers.close_idle();
}

core::result<std::optional<core::package>> sqlite_store::find(std::string_view tracking_id, core::millis now,
                                                              std::size_t max_events) {
    // One read transaction, so the state and the history come from the same snapshot.
    return impl_->readers.read([&](read_connection& c) -> core::result<std::optional<core::package>> {
        std::optional<core::package> found;
        {
            statement::run r(c.state);
            r.bind(1, tracking_id);
            if (r.step()) {
                auto s = read_state(r, tracking_id);
                if (s.expires_at >= now) found = core::package{std::move(s), {}};
            }
        }
        if (found) {
            statement::run r(c.events);
            r.bind(1, tracking_id).bind(2, static_cast<std::int64_t>(max_events));
            found->events.reserve(std::min<std::size_t>(found->state.event_count, max_events));
            while (r.step()) found->events.push_back(read_event(r, tracking_id));
        }
        return found;
    });
}

void sqlite_store::append(core::submission sub, const core::lifecycle_policy& policy,
                          core::append_callback done) {
    std::unique_ptr<sqlite_detail::write_job> job =
        std::make_unique<sqlite_detail::append_job>(std::move(sub), policy, std::move(done));
    if (!impl_->enqueue(job)) {
        // The job was not queued, so we still own it and its callback.
        static_cast<sqlite_detail::append_job&>(*job).done(core::fail(overloaded()));
    }
}

void sqlite_store::append_batch(std::vector<core::submission> subs, const core::lifecycle_policy& policy,
                                core::batch_callback done) {
    const std::size_t n = subs.size();
    std::unique_ptr<sqlite_detail::write_job> job =
        std::make_unique<sqlite_detail::batch_job>(std::move(subs), policy, std::move(done));
    if (!impl_->enqueue(job)) {
        static_cast<sqlite_detail::batch_job&>(*job).done(std::vector<core::result<core::append_outcome>>(
            n, core::result<core::append_outcome>(core::fail(overloaded()))));
    }
}

core::result<core::package_page> sqlite_store::list_packages(const core::package_query& q) {
    const core::package_cursor bound = core::listing_bound(q);
    const auto fetch = static_cast<std::int64_t>(q.limit + 1);
    std::vector<core::status> statuses = q.statuses;
    if (statuses.empty()) statuses.assign(core::all_statuses.begin(), core::all_statuses.end());
    auto read =
        impl_->readers.read([&](read_connection& c) -> core::result<std::vector<core::package_state>> {
            std::vector<core::package_state> rows;
            // One index range per status, merged here: each is already in the listing's order.
            for (const core::status st : statuses) {
                statement::run r(c.list_by_status);
                r.bind(1, core::to_string(st))
                    .bind(2, bound.updated_at)
                    .bind(3, bound.tracking_id)
                    .bind(4, q.now)
                    .bind(5, fetch);
                while (r.step()) rows.push_back(read_state(r, r.text(12)));
            }
            return rows;
        });
    if (!read) return core::fail(std::move(read.error()));
    return core::listing_page(std::move(*read), q.limit);
}

core::result<std::vector<std::string>> sqlite_store::listing_query_plans() {
    return impl_->readers.read([](read_connection& c) -> core::result<std::vector<std::string>> {
        std::vector<std::string> lines;
        statement plan(c.handle.db,
                       (std::string("EXPLAIN QUERY PLAN ") + sqlite_detail::list_by_status_sql).c_str());
        statement::run r(plan);
        while (r.step()) lines.push_back(r.text(3));
        return lines;
    });
}

core::result<core::export_page> sqlite_store::export_packages(std::string_view cursor, std::size_t limit,
                                                              core::millis now) {
    return impl_->readers.read([&](read_connection& c) -> core::result<core::export_page> {
        core::export_page page;
        {
            statement::run r(c.export_ids);
            r.bind(1, cursor).bind(2, now).bind(3, static_cast<std::int64_t>(limit + 1));
            while (r.step()) page.packages.push_back(core::package{read_state(r, r.text(12)), {}});
        }
        if (page.packages.size() > limit) {
            page.packages.resize(limit);
            page.next = page.packages.back().state.tracking_id;
        }
        for (auto& p : page.packages) {
            statement::run r(c.export_events);
            r.bind(1, p.state.tracking_id);
            p.events.reserve(p.state.event_count);
            while (r.step()) p.events.push_back(read_event(r, p.state.tracking_id));
        }
        return page;
    });
}

core::result<std::size_t> sqlite_store::purge_expired(core::millis now) {
    std::size_t total = 0;
    for (;;) {
        auto job = std::make_unique<sqlite_detail::purge_job>(now, impl_->options.purge_chunk);
        auto future = job->promise.get_future();
        std::unique_ptr<sqlite_detail::write_job> base = std::move(job);
        if (!impl_->enqueue(base)) {
            return core::fail(core::error::unavailable_error("sqlite: store stopping or queue full"));
        }
        auto removed = future.get();
        if (!removed) return removed;
        total += *removed;
        if (*removed < impl_->options.purge_chunk) return total;
    }
}

core::result<void> sqlite_store::ping() {
    return impl_->readers.read([](read_connection& c) -> core::result<void> {
        statement::run r(c.ping);
        r.step();
        return {};
    });
}

}  // namespace dinex::store

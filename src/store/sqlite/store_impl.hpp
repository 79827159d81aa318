#pragma once
// Private to src/store/sqlite: what a sqlite_store holds, shared by its tracking operations
// (sqlite_store.cpp) and its webhook operations (sqlite_webhook_store.cpp).
#include <memory>

#include "store/sqlite/readers.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/writer.hpp"

namespace dinex::store {

struct sqlite_store::impl {
    sqlite_options options;
    sqlite_detail::reader_pool readers{{options.path}};
    std::unique_ptr<sqlite_detail::group_writer> writer;  // null when read-only

    explicit impl(sqlite_options o) : options(std::move(o)) {}

    // Takes the job and returns true, or leaves it with the caller and returns false when the
    // store is read-only or stopping, or the queue is full.
    bool enqueue(std::unique_ptr<sqlite_detail::write_job>& job) { return writer && writer->enqueue(job); }

    // Runs `fn` on the writer thread inside a group transaction and waits for the commit.
    template <class T>
    core::result<T> write(std::function<core::result<T>(sqlite_detail::write_connection&)> fn) {
        if (!writer)
            return core::fail(core::error::unavailable_error("sqlite: store stopping or queue full"));
        return writer->call<T>(std::move(fn));
    }
};

}  // namespace dinex::store

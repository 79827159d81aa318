#pragma once
// The SQLite store as tests open it.
#include <memory>
#include <stdexcept>
#include <string>

#include "core/system_ports.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace dinex::testing {

// The outbox ids of every SQLite store a test opens: real, monotonic ULIDs, as the service stack
// gives them (cli::service_stack::delivery_ids). One for the process, so it outlives every store.
inline core::id_generator& delivery_ids() {
    static core::system_clock clock;
    static core::monotonic_ulid_generator ids{clock};
    return ids;
}

inline core::result<std::unique_ptr<store::sqlite_store>> open_sqlite(const store::sqlite_options& options) {
    return store::sqlite_store::open(options, delivery_ids());
}

// The store at `path`, for suites that build their back-ends in a table; throws when it cannot open.
inline std::unique_ptr<store::sqlite_store> sqlite_or_throw(const std::string& path) {
    auto s = open_sqlite({.path = path});
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(*s);
}

}  // namespace dinex::testing

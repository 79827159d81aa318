#pragma once
// Private to src/store/sqlite: the schema, its versioned migrations, and how a database reports
// its version (sqlite_store::schema_version is the one this binary writes).
#include <string>

#include "store/sqlite/db.hpp"

namespace dinex::store::sqlite_detail {

// The schema version of an existing database, read without writing anything.
int schema_version_of(const std::string& name, int flags);

// Moves the schema of `handle`'s database to sqlite_store::schema_version, in one transaction.
void migrate_schema(db_handle& handle);

}  // namespace dinex::store::sqlite_detail

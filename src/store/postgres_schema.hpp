#pragma once
// Private to src/store: the postgres store's tables and their migrations.
#include <string>

#include "postgres_conn.hpp"

namespace parley::store {

// Brings the database to the newest schema version, each missing migration in its own
// transaction recorded in schema_migrations, under an advisory lock so that nodes starting
// together migrate once. Returns the store's epoch, made (random) with the first migration.
// Throws pg_error, or std::runtime_error for a database made by a newer Parley.
std::string migrate_postgres(pg_connection& db);

}  // namespace parley::store

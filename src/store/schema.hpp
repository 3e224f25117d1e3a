#pragma once
// Private to src/store: the database's layout and its migrations.
#include <cstdint>
#include <string>

#include "sqlite_db.hpp"

namespace parley::store {

// Brings the database to the newest schema version, applying each missing migration in its own
// transaction and recording it in schema_migrations. Returns the store's epoch, made (random)
// when the database is created. Throws sqlite_error, or std::runtime_error for a database made
// by a newer Parley.
std::string migrate(database& db);

// 32 random hex digits: a new store's epoch (protocol-v2), the same for either store.
std::string random_epoch();

// The newest schema version this Parley knows (the number of its migrations).
std::int64_t newest_schema_version();

}  // namespace parley::store

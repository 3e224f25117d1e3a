#include "sqlite_db.hpp"

namespace parley::store {

void check_sqlite(sqlite3* db, int rc) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw sqlite_error(rc & 0xFF, message);
}

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
  check(sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr));
}

statement::~statement() {
  sqlite3_finalize(stmt_);
}

void statement::check(int rc) const {
  check_sqlite(db_, rc);
}

statement& statement::bind(int i, std::int64_t value) {
  check(sqlite3_bind_int64(stmt_, i, value));
  return *this;
}

statement& statement::bind(int i, std::string_view text) {
  check(sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC));
  return *this;
}

statement& statement::bind_blob(int i, std::string_view bytes) {
  check(sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC));
  return *this;
}

statement& statement::bind(int i, const std::optional<std::string>& text) {
  if (!text) {
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  return bind(i, std::string_view(*text));
}

bool statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  sqlite3_reset(stmt_);
  check(rc);
  return false;
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string_view statement::text(int column) const {
  // Blob or text alike: the bytes as stored.
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size))
              : std::string_view();
}

std::optional<std::string> statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return std::string(text(column));
}

bool statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

database::database(const std::string& path, const char* vfs, open_mode mode) {
  int flags = mode == open_mode::read_only ? SQLITE_OPEN_READONLY
                                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    throw sqlite_error(rc & 0xFF, "cannot open " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 0);
}

database::~database() {
  sqlite3_close_v2(db_);
}

void database::exec(std::string_view sql) {
  std::string text(sql);
  check_sqlite(db_, sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr));
}

}  // namespace parley::store

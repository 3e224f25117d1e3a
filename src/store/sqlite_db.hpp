#pragma once
// Private to src/store: a thin RAII layer over SQLite's C API (Debian's libsqlite3), so the
// store reads as SQL and values rather than return codes. Errors throw sqlite_error.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace parley::store {

class sqlite_error : public std::runtime_error {
 public:
  sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }  // SQLite's primary result code (SQLITE_FULL, ...)

 private:
  int code_;
};

// One prepared statement, reset after each use; columns are read while a row is current.
class statement {
 public:
  statement(sqlite3* db, std::string_view sql);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  // Binds parameter `i` (1-based); a nullopt binds NULL. Returns *this for chaining.
  statement& bind(int i, std::int64_t value);
  statement& bind(int i, std::string_view text);
  statement& bind_blob(int i, std::string_view bytes);
  statement& bind(int i, const std::optional<std::string>& text);
  // Steps once: true while a row is current, false when done (the statement is then reset).
  bool step();
  // Runs a statement that returns no rows, then resets it.
  void run();
  void reset();

  std::int64_t integer(int column) const;
  std::string_view text(int column) const;  // valid until the next step
  std::optional<std::string> optional_text(int column) const;
  bool is_null(int column) const;

 private:
  void check(int rc) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// How a database is opened: read and written, made when missing (the store), or only read, an
// existing file (the operator's tools, beside a running server).
enum class open_mode { read_write_create, read_only };

// An open database connection, closed with it.
class database {
 public:
  // Opens the file through the named VFS (null: the default). Throws sqlite_error naming the path.
  database(const std::string& path, const char* vfs, open_mode mode = open_mode::read_write_create);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs SQL that returns no rows (several statements allowed).
  void exec(std::string_view sql);
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_ = nullptr;
};

// Throws sqlite_error for a result that is not SQLITE_OK/ROW/DONE.
void check_sqlite(sqlite3* db, int rc);

}  // namespace parley::store

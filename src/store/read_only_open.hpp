#pragma once
// Private to src/store: how the operator's tools open a store's file.
#include <string>

#include "sqlite_db.hpp"

namespace parley::store {

// <data_dir>/parley.db when both exist; else throws unreadable_store saying which is missing.
// The tools never make either.
std::string existing_store_file(const std::string& data_dir);

// A store's file opened read-only (the default VFS: the tools' reads are not the store's syncs)
// in a read transaction, so that every query sees the same state, whatever a running server
// commits meanwhile. SQLite may leave an empty parley.db-wal and parley.db-shm beside a file no
// server has open: a reader of a WAL database needs them.
class read_only_store {
 public:
  // Throws unreadable_store: a missing folder or file, or one SQLite cannot read.
  explicit read_only_store(const std::string& data_dir);

  sqlite3* handle() const { return db_.handle(); }
  const std::string& path() const { return path_; }
  // An unreadable_store for a SQLite error met while reading this file.
  [[noreturn]] void fail(const sqlite_error& e) const;

 private:
  std::string path_;
  database db_;
};

}  // namespace parley::store

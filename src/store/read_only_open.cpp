#include "read_only_open.hpp"

#include <filesystem>

#include "parley/store/store_tools.hpp"

namespace parley::store {

namespace {

// A server's checkpoint can hold the file's lock for a moment; a reader waits that long for it.
constexpr int busy_wait_ms = 5000;

database open_file(const std::string& path) {
  try {
    return database(path, nullptr, open_mode::read_only);
  } catch (const sqlite_error& e) {
    throw unreadable_store(e.what());  // "cannot open <path>: <why>"
  }
}

}  // namespace

std::string store_file_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "parley.db").string();
}

std::string existing_store_file(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    throw unreadable_store("no store in " + data_dir +
                           ": the folder does not exist (is --data-dir right?)");
  }
  std::string path = store_file_path(data_dir);
  if (!fs::is_regular_file(path, ec)) {
    throw unreadable_store("no store in " + data_dir + ": " + path +
                           " does not exist (is --data-dir right?)");
  }
  return path;
}

read_only_store::read_only_store(const std::string& data_dir)
    : path_(existing_store_file(data_dir)), db_(open_file(path_)) {
  try {
    sqlite3_busy_timeout(db_.handle(), busy_wait_ms);
    db_.exec("BEGIN");
    // A deferred transaction starts reading at its first query: this one, which also tells a
    // file that is no database.
    statement first(db_.handle(), "SELECT count(*) FROM sqlite_schema");
    first.step();
    first.reset();
  } catch (const sqlite_error& e) {
    fail(e);
  }
}

void read_only_store::fail(const sqlite_error& e) const {
  throw unreadable_store("cannot read " + path_ + ": " + e.what());
}

}  // namespace parley::store

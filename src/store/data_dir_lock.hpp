#pragma once
// Private to src/store: one server per data dir. Two would hand out the same seqs (each keeps
// its conversations' last seqs in memory), so the second refuses to start. SQLite's own locks
// cannot say this without also shutting out `parley store check` and backups.
#include <string>

namespace parley::store {

class data_dir_lock {
 public:
  // Takes an exclusive flock on <dir>/parley.lock (made when missing), held until destruction.
  // Throws std::runtime_error when another process holds it.
  explicit data_dir_lock(const std::string& dir);
  ~data_dir_lock();
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace parley::store

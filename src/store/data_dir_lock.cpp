#include "data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace parley::store {

data_dir_lock::data_dir_lock(const std::string& dir) {
  std::string path = (std::filesystem::path(dir) / "parley.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw std::runtime_error("another parley is using the data dir " + dir + " (it holds " +
                               path + "); give this one its own --data-dir");
    }
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(error));
  }
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace parley::store

#include "temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace parley::it {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "parley-it-data-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp(" + pattern + ") failed: " + std::strerror(errno));
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;  // a leftover folder in /tmp is no reason to fail a test
  std::filesystem::remove_all(path_, ec);
}

}  // namespace parley::it

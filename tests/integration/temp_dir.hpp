#pragma once
// A temporary directory for one test (a server's --data-dir): made under $TMPDIR (or /tmp) with
// a unique name, removed with everything in it when the object goes. Destroy it after the server
// that writes into it has stopped.
#include <string>

namespace parley::it {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace parley::it

#include "parley/app/static_dir.hpp"

#include <filesystem>
#include <system_error>

namespace parley::app {

namespace fs = std::filesystem;

std::vector<static_dir_candidate> static_dir_candidates() {
  std::vector<static_dir_candidate> all;
  std::error_code ec;
  fs::path binary = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) all.push_back({(binary.parent_path() / "web").string(), "beside the binary"});
  all.push_back({PARLEY_INSTALLED_STATIC_DIR, "installed"});
  if (!ec) {
    all.push_back({(binary.parent_path().parent_path() / "share/parley/web").string(),
                   "installed beside the binary"});
  }
  return all;
}

std::optional<static_dir_candidate> first_existing(const std::vector<static_dir_candidate>& all) {
  for (const auto& candidate : all) {
    std::error_code ec;
    if (!fs::is_directory(candidate.path, ec)) continue;
    fs::path real = fs::canonical(candidate.path, ec);
    if (!ec) return static_dir_candidate{real.string(), candidate.origin};
  }
  return std::nullopt;
}

}  // namespace parley::app

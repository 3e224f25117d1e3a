#pragma once
#include <optional>
#include <string>
#include <vector>

namespace parley::app {

// A folder that may hold the pages, and where it comes from ("beside the binary").
struct static_dir_candidate {
  std::string path;
  std::string origin;
};

// Where the pages are looked for when --static-dir is not given, in this order:
//   1. web/ beside the binary: a binary copied with its pages; in a build tree it is a link to
//      the source tree's web/ (made by CMake), so a developer sees their own edits;
//   2. the installed data dir (CMAKE_INSTALL_FULL_DATADIR/parley/web, e.g. /usr/share/...);
//   3. ../share/parley/web from the binary's folder: an install moved to another prefix.
// Never a path of the machine the binary was built on: a copied binary must not serve another
// checkout's pages.
std::vector<static_dir_candidate> static_dir_candidates();

// The first candidate that is a folder, its path made canonical (the log names the real folder).
std::optional<static_dir_candidate> first_existing(const std::vector<static_dir_candidate>& all);

}  // namespace parley::app

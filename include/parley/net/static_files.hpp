#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace parley::net {

// The files under --static-dir, read from disk on each request so an edit shows on reload.
class static_files {
 public:
  // `root` must exist; it is made canonical once.
  explicit static_files(const std::filesystem::path& root);

  // The regular file that a URL path below the static prefix names, or nullopt. The path is
  // percent-decoded first, then resolved (symlinks and ".." included), then checked to be
  // inside the root, so no encoding of a traversal can leave it.
  std::optional<std::filesystem::path> resolve(std::string_view url_path) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// The Content-Type for a file name, by its extension.
std::string_view mime_type(const std::filesystem::path& file);

// A strong-enough validator for a file: its size and modification time.
std::string entity_tag(const std::filesystem::path& file);

}  // namespace parley::net

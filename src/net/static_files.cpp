#include "parley/net/static_files.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <utility>

#include "parley/protocol/percent_decode.hpp"

namespace parley::net {

namespace fs = std::filesystem;

static_files::static_files(const fs::path& root) : root_(fs::canonical(root)) {}

std::optional<fs::path> static_files::resolve(std::string_view url_path) const {
  auto decoded = protocol::percent_decode(url_path);
  if (!decoded || decoded->find('\0') != std::string::npos ||
      decoded->find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::string_view relative = *decoded;
  while (!relative.empty() && relative.front() == '/')
    relative.remove_prefix(1);
  if (relative.empty()) return std::nullopt;
  // canonical() follows every symlink of a path that exists. weakly_canonical() would not do:
  // past a missing component ("x/../link") it only normalizes the rest by text, so a symlink
  // after it would escape the root (found by fuzz_static_files).
  std::error_code ec;
  fs::path resolved = fs::canonical(root_ / fs::path(relative), ec);
  if (ec) return std::nullopt;
  auto [root_end, unused] =
      std::mismatch(root_.begin(), root_.end(), resolved.begin(), resolved.end());
  if (root_end != root_.end()) return std::nullopt;  // outside the root
  if (!fs::is_regular_file(resolved, ec)) return std::nullopt;
  return resolved;
}

std::string_view mime_type(const fs::path& file) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
      {".webmanifest", "application/manifest+json"},
  };
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [ext, type] : types) {
    if (ext == extension) return type;
  }
  return "application/octet-stream";
}

std::string entity_tag(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  auto mtime = fs::last_write_time(file, ec).time_since_epoch();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime).count();
  char tag[64];
  int n = std::snprintf(tag, sizeof tag, "\"%llx-%llx\"", static_cast<unsigned long long>(size),
                        static_cast<unsigned long long>(nanos));
  return std::string(tag, static_cast<std::size_t>(n));
}

}  // namespace parley::net

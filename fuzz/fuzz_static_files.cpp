// libFuzzer target: static file path resolution (static_files::resolve), the guard between a
// URL and the disk. Against a temporary tree built once:
//
//   <tmp>/www/index.html, www/css/site.css, www/.hidden, www/link-in -> css/site.css,
//   www/link-out -> ../secret.txt, www/dir-out -> .., <tmp>/secret.txt, <tmp>/www-private/key
//
// Whatever the URL path, a result must be an existing regular file whose canonical path lies
// inside the canonical root (component by component, so www-private is outside www), and never
// one of the files outside.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "parley/net/static_files.hpp"

namespace fs = std::filesystem;

namespace {

fs::path base;

void write(const fs::path& file, std::string_view text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

const parley::net::static_files& files() {
  static const parley::net::static_files instance = [] {
    char pattern[] = "/tmp/parley-fuzz-static-XXXXXX";
    base = fs::canonical(mkdtemp(pattern));
    write(base / "www/index.html", "<!doctype html>");
    write(base / "www/css/site.css", "body{}");
    write(base / "www/.hidden", "h");
    write(base / "secret.txt", "outside");
    write(base / "www-private/key", "outside");
    fs::create_symlink("css/site.css", base / "www/link-in");
    fs::create_symlink("../secret.txt", base / "www/link-out");
    fs::create_symlink("..", base / "www/dir-out");
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(base, ec);
    });
    return parley::net::static_files(base / "www");
  }();
  return instance;
}

bool inside(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& static_root = files();
  std::string_view url(reinterpret_cast<const char*>(data), size);
  auto result = static_root.resolve(url);
  if (!result) return 0;
  std::error_code ec;
  fs::path canonical = fs::canonical(*result, ec);
  FUZZ_CHECK(!ec);
  FUZZ_CHECK(fs::is_regular_file(canonical));
  FUZZ_CHECK(inside(static_root.root(), canonical));
  FUZZ_CHECK(canonical != base / "secret.txt");
  FUZZ_CHECK(canonical != base / "www-private/key");
  return 0;
}

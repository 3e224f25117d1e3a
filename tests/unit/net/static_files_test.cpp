#include "parley/net/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using parley::net::static_files;

namespace {

// A static root with files inside, and a secret beside it that must never be served.
class static_files_test : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("parley-static-" + std::to_string(::getpid()));
    fs::create_directories(base_ / "root" / "css");
    std::ofstream(base_ / "root" / "index.html") << "<p>hi</p>";
    std::ofstream(base_ / "root" / "css" / "a b.css") << "p{}";
    std::ofstream(base_ / "secret.txt") << "secret";
    fs::create_symlink(base_ / "secret.txt", base_ / "root" / "link.txt");
    files_.emplace(base_ / "root");
  }
  void TearDown() override { fs::remove_all(base_); }

  std::optional<fs::path> resolve(std::string_view url) { return files_->resolve(url); }

  fs::path base_;
  std::optional<static_files> files_;
};

TEST_F(static_files_test, serves_files_inside_the_root) {
  EXPECT_EQ(resolve("index.html"), fs::canonical(base_ / "root" / "index.html"));
  EXPECT_EQ(resolve("css/a%20b.css"), fs::canonical(base_ / "root" / "css" / "a b.css"));
  EXPECT_EQ(resolve("/index.html"), fs::canonical(base_ / "root" / "index.html"));
}

TEST_F(static_files_test, refuses_every_encoding_of_a_traversal) {
  for (std::string_view url :
       {"../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt", "..%2fsecret.txt",
        "css/../../secret.txt", "css/%2e%2e/%2e%2e/secret.txt", "..\\secret.txt",
        "%5c..%5csecret.txt", "/../secret.txt", "link.txt", "%00index.html", "index.html%00",
        "missing/../link.txt", "7/%2E%2E///link.txt"}) {
    EXPECT_EQ(resolve(url), std::nullopt) << url;
  }
}

TEST_F(static_files_test, double_encoding_is_decoded_once) {
  // "%252e" is the literal name "%2e", which does not exist: nothing is decoded twice.
  EXPECT_EQ(resolve("%252e%252e/secret.txt"), std::nullopt);
}

TEST_F(static_files_test, refuses_directories_missing_files_and_bad_escapes) {
  EXPECT_EQ(resolve("css"), std::nullopt);
  EXPECT_EQ(resolve(""), std::nullopt);
  EXPECT_EQ(resolve("missing.html"), std::nullopt);
  EXPECT_EQ(resolve("index%zz.html"), std::nullopt);
  EXPECT_EQ(resolve("index.html%2"), std::nullopt);
}

TEST(mime_type, by_extension_case_insensitively) {
  EXPECT_EQ(parley::net::mime_type("a/b.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(parley::net::mime_type("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(parley::net::mime_type("x.png"), "image/png");
  EXPECT_EQ(parley::net::mime_type("noext"), "application/octet-stream");
}

}  // namespace

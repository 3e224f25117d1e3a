// Where the pages come from without --static-dir: web/ beside the binary (in a build tree, the
// link to the source tree's web/), then the installed data dir, then ../share/parley/web from
// the binary; never the path of the tree it was built in. The start-up line names the folder.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "raw_client.hpp"
#include "server_process.hpp"

namespace parley::it {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

launch_options launch_of(const std::string& binary) {
  launch_options launch;
  launch.binary = binary;
  return launch;
}

std::string get_index(std::uint16_t port) {
  raw_client r(port);
  auto response = r.request("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  return response.status == 200 ? response.body : "status " + std::to_string(response.status);
}

class static_dir : public ::testing::Test {
 protected:
  void SetUp() override {
    PARLEY_SKIP_ON_PEER();
    char tmpl[] = "/tmp/parley-it-static-dir-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  // A copy of the binary at `relative` under the test's folder (an installed or copied binary).
  std::string copy_binary(const fs::path& relative) {
    fs::path copy = root_ / relative;
    fs::create_directories(copy.parent_path());
    fs::copy_file(parley_binary(), copy);
    return copy.string();
  }
  // The installed data dir wins over ../share from the binary, when this machine has one.
  static bool installed_pages_exist() { return fs::is_directory(PARLEY_INSTALLED_STATIC_DIR); }

  fs::path root_;
};

TEST_F(static_dir, a_binary_in_its_build_tree_serves_the_source_trees_pages) {
  fs::path beside = fs::path(parley_binary()).parent_path() / "web";
  if (!fs::is_symlink(beside)) GTEST_SKIP() << parley_binary() << " is not in a build tree";
  server_process server;
  std::string expected = fs::canonical(PARLEY_SOURCE_WEB).string() + " [beside the binary]";
  EXPECT_NE(server.log().find("static files: " + expected), std::string::npos) << server.log();
  EXPECT_NE(get_index(server.port()).find("<!doctype html>"), std::string::npos);
}

TEST_F(static_dir, a_copied_binary_serves_the_pages_beside_it_not_those_of_its_build) {
  auto binary = copy_binary("opt/parley");
  write_file(root_ / "opt/web/index.html", "pages beside the copy\n");
  server_process server({}, launch_of(binary));
  std::string expected = (root_ / "opt/web").string() + " [beside the binary]";
  EXPECT_NE(server.log().find("static files: " + expected), std::string::npos) << server.log();
  EXPECT_EQ(get_index(server.port()), "pages beside the copy\n");
}

TEST_F(static_dir, an_install_under_another_prefix_serves_its_share_folder) {
  if (installed_pages_exist()) GTEST_SKIP() << PARLEY_INSTALLED_STATIC_DIR << " exists here";
  auto binary = copy_binary("prefix/bin/parley");
  write_file(root_ / "prefix/share/parley/web/index.html", "installed pages\n");
  server_process server({}, launch_of(binary));
  EXPECT_NE(server.log().find((root_ / "prefix/share/parley/web").string() + " [installed"),
            std::string::npos)
      << server.log();
  EXPECT_EQ(get_index(server.port()), "installed pages\n");
}

TEST_F(static_dir, without_any_pages_folder_it_exits_1_asking_for_static_dir) {
  if (installed_pages_exist()) GTEST_SKIP() << PARLEY_INSTALLED_STATIC_DIR << " exists here";
  auto binary = copy_binary("bare/parley");
  auto r = run_command({binary, "--port", "0"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("no pages folder"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--static-dir"), std::string::npos) << r.err;
}

TEST_F(static_dir, the_flag_wins_and_the_start_up_line_says_so) {
  write_file(root_ / "chosen/index.html", "chosen pages\n");
  server_process server({"--static-dir", (root_ / "chosen").string()});
  EXPECT_NE(server.log().find((root_ / "chosen").string() + " [--static-dir]"), std::string::npos)
      << server.log();
  EXPECT_EQ(get_index(server.port()), "chosen pages\n");
}

}  // namespace
}  // namespace parley::it

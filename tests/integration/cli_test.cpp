// The command line as a newcomer meets it: --version, --help, exit statuses (0 ok, 1 cannot
// start, 2 bad usage), messages for bad values, a port in use, and `parley token`.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace parley::it {
namespace {

command_result parley(std::vector<std::string> args) {
  args.insert(args.begin(), parley_binary());
  return run_command(args);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class cli : public ::testing::Test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }
};

TEST_F(cli, version_prints_the_project_version_and_exits_0) {
  auto r = parley({"--version"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "parley " PARLEY_VERSION "\n");
}

TEST_F(cli, help_shows_integers_as_integers_and_the_exit_statuses) {
  auto r = parley({"--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "--max-bytes-per-second")) << r.out;
  EXPECT_TRUE(contains(r.out, "=33554432")) << r.out;
  EXPECT_TRUE(contains(r.out, "[0 - 1000000000000]")) << r.out;
  EXPECT_FALSE(std::regex_search(r.out, std::regex("[0-9]e\\+[0-9]"))) << r.out;
  EXPECT_TRUE(contains(r.out, "Exit status:")) << r.out;
  EXPECT_TRUE(contains(r.out, "2  bad flag")) << r.out;
}

TEST_F(cli, a_bad_value_exits_2_saying_what_is_wrong_with_it) {
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& [args, says] : std::vector<bad>{
           {{"--threads", "abc"}, "--threads: abc is not a number"},
           {{"--threads", "2.5"}, "--threads: 2.5 is not a whole number"},
           {{"--threads", "5000"}, "--threads: 5000 is not in [0 - 1024]"},
           {{"--ping-interval", "soon"}, "--ping-interval: soon is not a number"},
           {{"--max-bytes-per-second", "-1"}, "is not in [0 - 1000000000000]"},
           {{"--host", "example.com"}, "example.com is not an IP address"},
           {{"--no-such-flag"}, "--no-such-flag"},
       }) {
    auto r = parley(args);
    EXPECT_EQ(r.status, 2) << args[0] << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, says)) << r.err;
    EXPECT_FALSE(contains(r.err, "not in range")) << r.err;
  }
}

TEST_F(cli, a_port_in_use_is_said_in_one_line_without_boost_paths_and_exits_1) {
  server_process first;
  auto r = parley({"--host", "127.0.0.1", "--port", std::to_string(first.port())});
  EXPECT_EQ(r.status, 1) << r.err;
  std::string expected =
      "cannot start: 127.0.0.1:" + std::to_string(first.port()) + " is already in use";
  EXPECT_TRUE(contains(r.err, expected)) << r.err;
  EXPECT_TRUE(contains(r.err, "pick another --port")) << r.err;
  EXPECT_FALSE(contains(r.err, ".hpp")) << r.err;
  EXPECT_FALSE(contains(r.err, "[system:")) << r.err;
}

TEST_F(cli, token_help_lists_the_secret_flags) {
  auto r = parley({"token", "--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "--auth-secret ")) << r.out;
  EXPECT_TRUE(contains(r.out, "--auth-secret-file")) << r.out;
  EXPECT_TRUE(contains(r.out, "--sub")) << r.out;
}

TEST_F(cli, token_prints_a_jwt_with_the_secret_before_or_after_the_subcommand) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"token", "--sub", "alice", "--auth-secret", "s3cret"},
           {"--auth-secret", "s3cret", "token", "--sub", "alice"}}) {
    auto r = parley(args);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(
        std::regex_match(r.out, std::regex("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\n")))
        << r.out;
  }
  auto no_secret = parley({"token", "--sub", "alice"});
  EXPECT_EQ(no_secret.status, 2);
  EXPECT_TRUE(contains(no_secret.err, "--auth-secret")) << no_secret.err;
}

TEST_F(cli, token_refuses_an_id_that_could_never_connect) {
  for (const std::string& id :
       std::vector<std::string>{"", "a b", "caf\xc3\xa9", "x/y", std::string(65, 'a')}) {
    auto r = parley({"token", "--sub", id, "--auth-secret", "s3cret"});
    EXPECT_EQ(r.status, 2) << "'" << id << "' " << r.out;
    EXPECT_TRUE(contains(r.err, "could never connect")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(parley({"token", "--sub", std::string(64, 'a'), "--auth-secret", "s"}).status, 0);
  EXPECT_EQ(parley({"token", "--sub", "A-z_0.9", "--auth-secret", "s"}).status, 0);
}

}  // namespace
}  // namespace parley::it

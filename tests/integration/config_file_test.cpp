// The config file (--config FILE, TOML, a key per flag): its values apply; the precedence is
// flag > environment (PARLEY_*) > file > default; an unknown key or a bad value stops the
// server with exit status 2 naming the file, the line and the key; `parley config check`
// validates a file without starting, `parley config print` shows each value and where it came
// from; the example file in examples/ is accepted.
#include <gtest/gtest.h>

#include <regex>

#include "chat_test.hpp"
#include "config_files.hpp"

namespace parley::it {
namespace {

// A text message of exactly `size` bytes to `to`.
std::string msg_of_size(const std::string& to, std::size_t size) {
  std::string head = R"({"type":"msg","to":")" + to + R"(","cid":"big","text":")";
  std::string tail = "\"}";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

class config_file : public ::testing::Test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own settings

  // Whether `server` answers a text message of `size` bytes with too_large.
  bool too_large(server_process& server, std::size_t size) {
    ws_client a(ioc_, server.port()), b(ioc_, server.port());
    a.connect("alice");
    b.connect("bob");
    a.send_text(msg_of_size("bob", size));
    auto reply = a.read_json();
    if (str(reply, "code") == "too_large") return true;
    EXPECT_EQ(type_of(reply), "ack") << to_string(reply);
    return false;
  }

  net::io_context ioc_;
  temp_dir dir_;
};

TEST_F(config_file, its_values_apply) {
  auto file = write_config(dir_, "parley.toml", "max-text-bytes = 1024\n");
  server_process server({"--config", file});
  EXPECT_TRUE(too_large(server, 1025));
  EXPECT_FALSE(too_large(server, 1000));
  EXPECT_TRUE(contains(server.log(), "config file: " + file)) << server.log();
}

TEST_F(config_file, the_environment_beats_the_file) {
  auto file = write_config(dir_, "parley.toml", "max-text-bytes = 1024\n");
  server_process server({"--config", file}, with_env({"PARLEY_MAX_TEXT_BYTES=4096"}));
  EXPECT_FALSE(too_large(server, 2000));
  EXPECT_TRUE(too_large(server, 4097));
}

TEST_F(config_file, a_flag_beats_the_environment) {
  auto file = write_config(dir_, "parley.toml", "max-text-bytes = 8192\n");
  server_process server({"--config", file, "--max-text-bytes", "1024"},
                        with_env({"PARLEY_MAX_TEXT_BYTES=4096"}));
  EXPECT_TRUE(too_large(server, 2000));
}

TEST_F(config_file, parley_config_names_the_file_too) {
  auto file = write_config(dir_, "parley.toml", "max-text-bytes = 1024\n");
  server_process server({}, with_env({"PARLEY_CONFIG=" + file}));
  EXPECT_TRUE(too_large(server, 2000));
  auto missing = parley_run({"--port", "0"}, {"PARLEY_CONFIG=" + dir_.path() + "/none.toml"});
  EXPECT_EQ(missing.status, 2) << missing.err;
  EXPECT_TRUE(contains(missing.err, "none.toml (PARLEY_CONFIG) was not readable")) << missing.err;
}

TEST_F(config_file, unknown_keys_and_bad_values_name_file_line_and_key_and_exit_2) {
  auto file = write_config(dir_, "bad.toml",
                           "# Parley\n"
                           "max-text-bytes = 12\n"
                           "max-text-byte = 1024\n"
                           "port = \"8000\"\n"
                           "threads = 2.5\n"
                           "store = \"mysql\"\n"
                           "allowed-origins = [1]\n"
                           "[server]\n"
                           "host = \"0.0.0.0\"\n");
  for (const auto& args : std::vector<std::vector<std::string>>{{"--port", "0", "--config", file},
                                                                {"config", "check", file}}) {
    auto r = parley_run(args);
    EXPECT_EQ(r.status, 2) << args[0] << "\n" << r.err;
    for (const std::string& says : std::vector<std::string>{
             file + ":2: max-text-bytes: 12 is not in [64 - 1073741824]",
             file + ":3: unknown key max-text-byte (did you mean max-text-bytes?)",
             file + ":4: port: expects an integer, not a string",
             file + ":5: threads: 2.5 is not a whole number",
             file + ":6: store: mysql is not a store: sqlite, postgres or none",
             file + ":7: allowed-origins: expects an array of strings, not one holding an integer",
             file + ":8: unknown key server (settings are top-level keys",
         }) {
      EXPECT_TRUE(contains(r.err, says)) << "missing: " << says << "\n" << r.err;
    }
    EXPECT_FALSE(contains(r.err, "listening on")) << r.err;
  }
}

TEST_F(config_file, a_bad_value_is_an_error_even_when_the_environment_overrides_it) {
  auto file = write_config(dir_, "parley.toml", "max-text-bytes = 12\n");
  auto r = parley_run({"config", "check", file}, {"PARLEY_MAX_TEXT_BYTES=4096"});
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(contains(r.err, file + ":1: max-text-bytes: 12 is not in")) << r.err;
}

TEST_F(config_file, toml_syntax_errors_name_line_and_column) {
  auto file = write_config(dir_, "broken.toml", "port = 8000\nport = 8001\nhost = \n");
  auto r = parley_run({"config", "check", file});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(std::regex_search(r.err, std::regex(file + ":2:[0-9]+: .*port"))) << r.err;
}

TEST_F(config_file, config_check_accepts_a_good_file) {
  auto file = write_config(dir_, "good.toml",
                           "max-text-bytes = 2048\n"
                           "ping-interval = 2.5\n"
                           "store = \"none\"\n"
                           "allowed-origins = [\"https://a.example\", \"https://b.example\"]\n"
                           "ip-limits-on-loopback = true\n"
                           "tls-cert = \"\"  # empty: not set\n"
                           "log-format = \"json\"\n");
  auto r = parley_run({"config", "check", file});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, file + ": ok\n");
  auto missing = parley_run({"config", "check", dir_.path() + "/none.toml"});
  EXPECT_EQ(missing.status, 2);
}

TEST_F(config_file, config_print_shows_each_value_and_where_it_came_from) {
  auto file = write_config(dir_, "parley.toml",
                           "max-text-bytes = 2048\n"
                           "max-binary-bytes = 100000\n"
                           "ping-timeout = 5\n"
                           "allowed-origins = [\"https://a.example\"]\n"
                           "auth-secret = \"s3cret\"\n");
  auto r = parley_run(
      {"--port", "9001", "config", "print", "--config", file, "--max-binary-bytes", "200000"},
      {"PARLEY_PING_TIMEOUT=7"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string& line : std::vector<std::string>{
           "port = 9001  # flag",
           "max-text-bytes = 2048  # file " + file + ":1",
           "max-binary-bytes = 200000  # flag",
           "ping-timeout = 7  # env PARLEY_PING_TIMEOUT",
           "ping-interval = 10  # default",
           "allowed-origins = [\"https://a.example\"]  # file " + file + ":4",
           "store = \"sqlite\"  # default",
           "# auth-secret = (set, not shown)  # file " + file + ":5",
           "# config file: " + file,
       }) {
    EXPECT_TRUE(contains(r.out, line + "\n")) << "missing: " << line << "\n" << r.out;
  }
  EXPECT_FALSE(contains(r.out, "s3cret")) << r.out;

  // What it prints is a config file that `config check` accepts (the secret left out).
  auto printed = write_config(dir_, "printed.toml", r.out);
  auto check = parley_run({"config", "check", printed});
  EXPECT_EQ(check.status, 0) << check.err;
}

TEST_F(config_file, the_example_file_is_accepted) {
  auto r = parley_run({"config", "check", PARLEY_SOURCE_DIR "/examples/parley.toml"});
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
}  // namespace parley::it

#include "server_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef PARLEY_BINARY
#define PARLEY_BINARY "parley"
#endif

namespace conformance {

namespace {

std::string binary_path() {
  if (const char* env = std::getenv("PARLEY_BINARY"); env && *env) return env;
  return PARLEY_BINARY;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::atomic<int> client_counter{0};

}  // namespace

server_process::server_process(std::vector<std::string> extra_args) {
  char log_template[] = "/tmp/parley-conformance-XXXXXX";
  int log_fd = mkstemp(log_template);
  if (log_fd < 0) throw std::runtime_error("mkstemp failed");
  log_path_ = log_template;

  std::vector<std::string> args = {binary_path(), "--host", "127.0.0.1", "--port", "0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // These tests are of protocol v1: no store unless a test asks for one.
  if (std::find(extra_args.begin(), extra_args.end(), "--store") == extra_args.end()) {
    args.push_back("--store");
    args.push_back("none");
  }
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);

  // Sanitizer builds start slowly on a shared machine: wait up to 30 s for the port.
  const std::string marker = "listening on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string log = read_file(log_path_);
    if (auto at = log.find(marker); at != std::string::npos) {
      port_ = static_cast<std::uint16_t>(std::atoi(log.c_str() + at + marker.size()));
      if (port_ != 0) return;
    }
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string tail = log_tail();
  stop(std::chrono::seconds(2));
  throw std::runtime_error("parley did not start (" + binary_path() + "); log:\n" + tail);
}

server_process::~server_process() {
  stop();
  if (!log_path_.empty()) unlink(log_path_.c_str());
}

bool server_process::running() {
  if (exited_ || pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int server_process::stop(std::chrono::milliseconds bound) {
  if (!running()) return exit_status_;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exited_ = true;
  exit_status_ = -1;
  return exit_status_;
}

std::string server_process::log_tail(std::size_t bytes) const {
  std::string log = read_file(log_path_);
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

std::string ping_request(const std::string& cid, std::size_t size) {
  std::string head = R"({"type":"ping","cid":")" + cid + "\"";
  std::string bare = head + "}";
  if (size <= bare.size()) return bare;
  const std::string pad_open = R"(,"pad":")";
  const std::string pad_close = "\"}";
  std::size_t fixed = head.size() + pad_open.size() + pad_close.size();
  if (size < fixed) return bare;
  return head + pad_open + std::string(size - fixed, 'a') + pad_close;
}

// ---- fixture

void conformance_test::SetUp() {
  server_ = std::make_unique<server_process>(server_args());
}

void conformance_test::TearDown() {
  if (!server_) return;
  ASSERT_TRUE(server_->running()) << "the server exited during the test; log:\n"
                                  << server_->log_tail();
  {
    SCOPED_TRACE("a fresh client after the case");
    frame_client fresh = open_client("fresh");
    expect_served(fresh, "fresh-alive");
    fresh.send_close(1000);
    auto close = fresh.read_until_close();
    EXPECT_EQ(close.code, 1000);
  }
  int status = server_->stop();
  EXPECT_EQ(status, 0) << "the server did not exit cleanly on SIGTERM; log:\n"
                       << server_->log_tail();
  if (HasFailure()) std::cerr << "---- server log tail ----\n" << server_->log_tail() << "\n";
}

frame_client conformance_test::connect_raw() {
  return frame_client(server_->port());
}

frame_client conformance_test::open_client(const std::string& id) {
  std::string client_id = id.empty() ? "c" + std::to_string(++client_counter) : id;
  frame_client client(server_->port());
  http_response response = client.upgrade("/ws/" + client_id);
  EXPECT_EQ(response.status, 101) << response.head;
  auto welcome = client.read_frame();
  EXPECT_TRUE(welcome.has_value()) << "no welcome frame";
  if (welcome) {
    EXPECT_EQ(welcome->opcode, op_text);
    EXPECT_NE(welcome->payload.find(R"("type":"welcome")"), std::string::npos) << welcome->payload;
  }
  return client;
}

void conformance_test::expect_failed_with(frame_client& client, std::uint16_t code) {
  close_result close = client.read_until_close();
  EXPECT_TRUE(close.received) << "no close frame from the server (" << close.why << ")";
  EXPECT_EQ(close.code, code) << "close reason: " << close.reason;
  if (!close.received) return;
  // The server should close TCP soon after the close handshake (RFC 6455 section 7.1.1).
  client.send_close(close.code == 0 ? 1000 : close.code);
  EXPECT_TRUE(client.wait_eof()) << "the server kept the TCP connection open";
}

void conformance_test::expect_served(frame_client& client, const std::string& cid) {
  client.send_frame(op_text, ping_request(cid));
  expect_pong(client, cid);
}

void conformance_test::expect_pong(frame_client& client, const std::string& cid) {
  auto reply = client.read_data_frame();
  ASSERT_TRUE(reply.has_value()) << "no answer to a ping request";
  EXPECT_EQ(reply->opcode, op_text);
  EXPECT_NE(reply->payload.find(R"("type":"pong")"), std::string::npos) << reply->payload;
  EXPECT_NE(reply->payload.find(R"("cid":")" + cid + "\""), std::string::npos) << reply->payload;
}

}  // namespace conformance

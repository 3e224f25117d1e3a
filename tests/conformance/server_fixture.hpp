#pragma once
// A real parley process for the conformance suite, and the gtest fixture every case uses.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "frame_client.hpp"

namespace conformance {

// Starts `parley --host 127.0.0.1 --port 0 ...` with its log in a temporary file, and learns
// its port from the "listening on http://127.0.0.1:PORT" line. Stops it with SIGTERM (then
// SIGKILL after a bound) when destroyed.
class server_process {
 public:
  explicit server_process(std::vector<std::string> extra_args = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::uint16_t port() const { return port_; }
  // False once the process has exited (crashed, or a sanitizer stopped it).
  bool running();
  // Sends SIGTERM and waits (bounded); the exit status, or -1 when it had to be killed.
  int stop(std::chrono::milliseconds bound = std::chrono::seconds(10));
  // The last `bytes` of its log, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  int pid_ = -1;
  int exit_status_ = -1;
  bool exited_ = false;
  std::uint16_t port_ = 0;
  std::string log_path_;
};

// A {"type":"ping","cid":...} request, padded with an unknown field to exactly `size` bytes
// when `size` is larger than the bare request.
std::string ping_request(const std::string& cid, std::size_t size = 0);

// One server per test. After the test body, TearDown checks the RFC's other half of each case:
// the server is still alive and serves a fresh client (upgrade, welcome, a request answered).
class conformance_test : public ::testing::Test {
 protected:
  // Server flags for this suite; pings are off so no server ping interleaves with answers.
  virtual std::vector<std::string> server_args() const { return {"--ping-interval", "0"}; }

  void SetUp() override;
  void TearDown() override;

  // A client connected and upgraded as `/ws/<id>`, its welcome frame read.
  frame_client open_client(const std::string& id = "");
  // A client connected but not upgraded.
  frame_client connect_raw();

  // Fails the connection with a protocol error: reads frames until the server's close frame,
  // asserts its code, answers it, and asserts the server then closes the TCP connection.
  void expect_failed_with(frame_client& client, std::uint16_t code);
  // Asserts that the server answers a {"type":"ping"} text frame with cid `cid`.
  void expect_served(frame_client& client, const std::string& cid = "alive");
  // Asserts that the next data frame is the pong answer to the ping request with `cid`.
  void expect_pong(frame_client& client, const std::string& cid);

  std::unique_ptr<server_process> server_;
};

}  // namespace conformance

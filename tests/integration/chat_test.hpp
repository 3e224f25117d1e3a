#pragma once
// The base fixture of the integration tests: one server per test suite (started in
// SetUpTestSuite with the suite's flags), one io_context per test that its clients share.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "raw_client.hpp"
#include "server_process.hpp"
#include "ws_client.hpp"

namespace parley::it {

class chat_test : public ::testing::Test {
 protected:
  // Call from a suite's SetUpTestSuite / TearDownTestSuite.
  static void start_server(std::vector<std::string> flags);
  static void stop_server();
  static server_process& server() { return *server_; }
  static std::uint16_t port() { return server_->port(); }

  // A new id, unique in this process: prefix + counter.
  static std::string unique_id(const std::string& prefix);

  // A connected client that has read its welcome.
  std::unique_ptr<ws_client> connect(const std::string& id);
  // A client that has only started its upgrade (see ws_client::start).
  std::unique_ptr<ws_client> client() { return std::make_unique<ws_client>(ioc_, port()); }
  // A raw socket that completed the upgrade of /ws/<id> (101) and read its welcome.
  std::unique_ptr<raw_client> raw_ws(const std::string& id, int rcvbuf = 0);

  // Sends {"type":"ping","cid":...} and expects the pong: the connection is still usable.
  void expect_usable(ws_client& c);

  void run_for(ms d) { it::run_for(ioc_, d); }

  net::io_context ioc_;  // declared first: outlives the clients of the test

 private:
  static inline std::unique_ptr<server_process> server_;
};

// Builds a JSON object from a list of key/value pairs: obj({{"type","msg"},{"to","x"}}).
inline json::object obj(std::initializer_list<std::pair<json::string_view, json::value_ref>> kv) {
  return json::object(kv);
}

// Sends a msg with a cid and returns the ack (after checking it).
json::object send_msg(ws_client& from, const std::string& to, const std::string& text,
                      const std::string& cid);

// Milliseconds since `t`.
inline double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
}

}  // namespace parley::it

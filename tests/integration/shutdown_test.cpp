// Shutdown: SIGTERM closes every WebSocket with 1001 and the process exits 0 within 2 s.
#include "chat_test.hpp"

#include <signal.h>

#include <cstdio>

namespace parley::it {
namespace {

TEST(shutdown, sigterm_closes_every_websocket_with_1001_and_exits_0_within_2_s) {
  PARLEY_SKIP_ON_PEER();
  server_process s({"--threads", "2"});
  net::io_context ioc;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (const char* id : {"s1", "s1", "s2", "s3"}) {
    clients.push_back(std::make_unique<ws_client>(ioc, s.port()));
    clients.back()->connect(id);
  }
  clients[0]->send_json(obj({{"type", "msg"}, {"to", "s2"}, {"text", "bye"}, {"cid", "b"}}));
  EXPECT_EQ(type_of(clients[0]->read_json()), "ack");
  raw_client idle_http(s.port());  // an HTTP connection that sent nothing yet
  auto t0 = steady::now();
  ASSERT_EQ(::kill(s.pid(), SIGTERM), 0);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    auto code = clients[i]->wait_closed(ms{2500});
    ASSERT_TRUE(code) << "client " << i << " not closed within 2.5 s";
    EXPECT_EQ(*code, 1001) << "client " << i << ": " << clients[i]->close_error().message();
  }
  double closed_ms = ms_since(t0);
  auto status =
      s.wait_exit(ms{2000} - std::chrono::duration_cast<ms>(steady::now() - t0) + ms{100});
  double exit_ms = ms_since(t0);
  std::printf(
      "[measure] SIGTERM: all WebSockets closed after %.0f ms, process exited after "
      "%.0f ms\n",
      closed_ms, exit_ms);
  ASSERT_TRUE(status) << "still running 2 s after SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(exit_ms, 2100.0);
  EXPECT_TRUE(idle_http.wait_eof(ms{500}));
}

TEST(shutdown, sigint_also_stops_cleanly) {
  PARLEY_SKIP_ON_PEER();
  server_process s({"--threads", "2"});
  net::io_context ioc;
  ws_client c(ioc, s.port());
  c.connect("int1");
  ASSERT_EQ(::kill(s.pid(), SIGINT), 0);
  auto code = c.wait_closed(ms{2500});
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1001);
  auto status = s.wait_exit(ms{2500});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
}

}  // namespace
}  // namespace parley::it

// The open-file limit: at start-up --max-connections is fitted under it (after raising the soft
// limit to the hard one), so clients past it get 503 at once instead of hanging; and when
// descriptors still run out, the accept loop backs off, logs once a second at most, and serves
// again as soon as descriptors are free.
#include <memory>
#include <regex>
#include <thread>
#include <vector>

#include "chat_test.hpp"

namespace parley::it {
namespace {

// The server runs under prlimit with soft and hard limit `limit`: it cannot raise it.
std::unique_ptr<server_process> start_with_fd_limit(int limit) {
  launch_options launch;
  launch.wrapper = {"prlimit", "--nofile=" + std::to_string(limit) + ":" + std::to_string(limit)};
  return std::make_unique<server_process>(std::vector<std::string>{"--threads", "1"}, launch);
}

TEST(fd_limit, max_connections_is_lowered_to_fit_and_clients_past_it_get_503_at_once) {
  PARLEY_SKIP_ON_PEER();
  auto server = start_with_fd_limit(256);
  std::smatch m;
  std::string log = server->log();
  ASSERT_TRUE(
      std::regex_search(log, m, std::regex("--max-connections lowered from 19000 to ([0-9]+)")))
      << log;
  const int fitted = std::stoi(m[1].str());
  EXPECT_GT(fitted, 100);
  EXPECT_LT(fitted, 256);
  EXPECT_NE(log.find("ulimit -n"), std::string::npos) << log;
  EXPECT_NE(log.find("LimitNOFILE="), std::string::npos) << log;
  EXPECT_NE(log.find("max connections: " + std::to_string(fitted) + ")"), std::string::npos) << log;

  std::vector<std::unique_ptr<raw_client>> open;
  for (int i = 0; i < fitted; ++i) {
    auto client = std::make_unique<raw_client>(server->port());
    ASSERT_EQ(client->upgrade("/ws/fd" + std::to_string(i)).status, 101) << "connection " << i;
    open.push_back(std::move(client));
  }
  for (int i = 0; i < 3; ++i) {
    raw_client past(server->port());
    auto t0 = steady::now();
    auto response = past.upgrade("/ws/past" + std::to_string(i), "", ms{2000});
    EXPECT_EQ(response.status, 503) << "past the fitted limit";
    EXPECT_LT(ms_since(t0), 1000.0);
  }
  EXPECT_EQ(server->log().find("accept failed"), std::string::npos) << server->log();
}

TEST(fd_limit, the_accept_loop_backs_off_logs_once_a_second_and_serves_again_once_freed) {
  PARLEY_SKIP_ON_PEER();
  auto server = start_with_fd_limit(64);
  {
    // More connections than the server may hold files: the kernel queues the rest and accept()
    // fails with EMFILE (every 50 ms) until some close.
    std::vector<std::unique_ptr<raw_client>> flood;
    for (int i = 0; i < 100; ++i)
      flood.push_back(std::make_unique<raw_client>(server->port()));
    ASSERT_TRUE(server->wait_for_log("accept failed", 5s)) << server->log();
    std::this_thread::sleep_for(2500ms);
    ASSERT_TRUE(server->running());
    std::string log = server->log();
    std::size_t lines = 0;
    for (auto at = log.find("accept failed"); at != std::string::npos;
         at = log.find("accept failed", at + 1))
      ++lines;
    // 2.5 s of failures every 50 ms: about 50 failures, in at most one line a second.
    EXPECT_GE(lines, 2u) << log;
    EXPECT_LE(lines, 4u) << log;
    EXPECT_TRUE(std::regex_search(log, std::regex("\\(([1-9][0-9]*) more failures since the last")))
        << log;
  }  // the flood closes: the server reads EOF and frees its descriptors

  auto deadline = steady::now() + 5s;
  int status = 0;
  while (steady::now() < deadline && server->running()) {
    raw_client client(server->port());
    try {
      status = client.upgrade("/ws/after-the-flood").status;
    } catch (const std::exception&) {
      status = 0;  // closed unanswered: try again while the server recovers
    }
    if (status == 101) {
      auto welcome = client.read_frame();
      ASSERT_TRUE(welcome);
      EXPECT_NE(welcome->payload.find("\"welcome\""), std::string::npos);
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 101) << server->log();
}

}  // namespace
}  // namespace parley::it

// Out of file descriptors: the accept loop backs off, logs once a second at most, and serves
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

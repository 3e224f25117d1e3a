// Out of file descriptors: the accept loop backs off and tries again instead of exiting, and the
// server serves again as soon as descriptors are free.
#include <sys/resource.h>

#include <memory>
#include <thread>
#include <vector>

#include "chat_test.hpp"

namespace parley::it {
namespace {

// The server inherits this process's open-file limit, lowered for its start only.
std::unique_ptr<server_process> start_with_fd_limit(rlim_t limit) {
  raise_fd_limit();  // once per process: done now, so that it cannot undo the lowering below
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  rlimit low = saved;
  low.rlim_cur = limit;
  ::setrlimit(RLIMIT_NOFILE, &low);
  auto server = std::make_unique<server_process>(std::vector<std::string>{"--threads", "1"});
  ::setrlimit(RLIMIT_NOFILE, &saved);
  return server;
}

TEST(fd_exhaustion, the_accept_loop_backs_off_and_serves_again_once_descriptors_are_free) {
  PARLEY_SKIP_ON_PEER();
  auto server = start_with_fd_limit(64);
  {
    // More connections than the server may hold files: the kernel queues the rest and accept()
    // fails with EMFILE until some close.
    std::vector<std::unique_ptr<raw_client>> flood;
    for (int i = 0; i < 100; ++i)
      flood.push_back(std::make_unique<raw_client>(server->port()));
    auto deadline = steady::now() + 5s;
    while (server->log().find("accept failed") == std::string::npos && steady::now() < deadline)
      std::this_thread::sleep_for(20ms);
    EXPECT_NE(server->log().find("accept failed"), std::string::npos) << server->log();
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(server->running());
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

#include "chat_test.hpp"

#include <atomic>
#include <stdexcept>

namespace parley::it {

void chat_test::start_server(std::vector<std::string> flags) {
  server_ = std::make_unique<server_process>(std::move(flags));
}

void chat_test::stop_server() {
  const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
  if (server_ && suite && suite->failed_test_count() > 0) server_->show_log_on_stop();
  server_.reset();
}

std::string chat_test::unique_id(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(++counter);
}

std::unique_ptr<ws_client> chat_test::connect(const std::string& id) {
  auto c = client();
  c->connect(id);
  return c;
}

std::unique_ptr<raw_client> chat_test::raw_ws(const std::string& id, int rcvbuf) {
  auto r = std::make_unique<raw_client>(port(), rcvbuf);
  auto resp = r->upgrade("/ws/" + id);
  if (resp.status != 101)
    throw std::runtime_error("raw upgrade of /ws/" + id + " got HTTP " +
                             std::to_string(resp.status));
  auto welcome = r->read_frame();
  if (!welcome || welcome->opcode != 1 || welcome->payload.find("\"welcome\"") == std::string::npos)
    throw std::runtime_error("raw upgrade of /ws/" + id + ": no welcome");
  return r;
}

void chat_test::expect_usable(ws_client& c) {
  static std::atomic<int> n{0};
  const std::string cid = "usable-" + std::to_string(++n);
  c.send_json(obj({{"type", "ping"}, {"cid", cid}}));
  auto pong = c.read_json();
  EXPECT_EQ(type_of(pong), "pong") << to_string(pong);
  EXPECT_EQ(str(pong, "cid"), cid) << to_string(pong);
}

json::object send_msg(ws_client& from, const std::string& to, const std::string& text,
                      const std::string& cid) {
  from.send_json(obj({{"type", "msg"}, {"to", to}, {"text", text}, {"cid", cid}}));
  auto ack = from.read_json();
  EXPECT_EQ(type_of(ack), "ack") << to_string(ack);
  EXPECT_EQ(str(ack, "cid"), cid) << to_string(ack);
  EXPECT_EQ(str(ack, "status"), "delivered") << to_string(ack);
  EXPECT_FALSE(str(ack, "mid").empty()) << to_string(ack);
  return ack;
}

}  // namespace parley::it

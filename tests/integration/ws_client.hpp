#pragma once
// A small WebSocket client for the tests, on Beast, driven synchronously.
//
// Many clients share one io_context; each keeps an async read loop that queues what arrives,
// and every wait (connect, read, expect_nothing) runs the io_context for a bounded time, so
// pings are answered and other clients' frames are queued while a test waits.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parley::it {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ms = std::chrono::milliseconds;

inline constexpr ms default_wait{3000};

// Runs `ioc` until `done()` or `deadline`; returns done().
bool run_until(net::io_context& ioc, std::chrono::steady_clock::time_point deadline,
               const std::function<bool()>& done);
// Runs `ioc` for `duration` (answers pings, queues frames).
void run_for(net::io_context& ioc, ms duration);

struct ws_frame {
  bool binary = false;
  std::string data;
};

class ws_client {
 public:
  using headers = std::vector<std::pair<std::string, std::string>>;

  ws_client(net::io_context& ioc, std::uint16_t port);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // Starts TCP connect + upgrade of `target` (e.g. "/ws/1001"); see wait_open().
  void start(std::string target, headers extra = {});
  // Waits until the upgrade finished; false when it failed or timed out.
  bool wait_open(ms timeout = default_wait);
  bool is_open() const;
  bool handshake_failed() const;
  // Upgrades /ws/<id>, reads the first frame and checks it is the welcome for `expect_id`
  // (id itself when empty). Throws when anything is off.
  json::object connect(const std::string& path_id, const std::string& expect_id = "");

  void send_text(std::string text, ms timeout = default_wait);
  void send_json(const json::object& obj, ms timeout = default_wait);
  void send_binary(std::string bytes, ms timeout = default_wait);

  // The next frame, waiting up to `timeout`; nullopt on timeout or when closed.
  std::optional<ws_frame> next(ms timeout = default_wait);
  // The next frame, which must be a text frame holding a JSON object; throws otherwise.
  json::object read_json(ms timeout = default_wait);
  // The next frame, which must be binary; throws otherwise.
  std::string read_binary(ms timeout = default_wait);
  // Fails the test (non-fatally) if any frame arrives within `duration`.
  void expect_nothing(ms duration = ms{300});
  // Frames received and not yet read.
  std::size_t pending() const;

  // Clean close: sends a close frame and waits for the server's; true when it completed.
  bool close(std::uint16_t code = 1000, ms timeout = default_wait);
  // Abrupt close: SO_LINGER 0, so the server sees a TCP reset.
  void reset();
  // Waits until the server closed the connection; its close code (0 without a close frame).
  std::optional<std::uint16_t> wait_closed(ms timeout = default_wait);
  bool closed() const;
  std::uint16_t close_code() const;
  beast::error_code close_error() const;
  // WebSocket pings received from the server (each answered by Beast while the loop runs).
  int pings_received() const;

  net::io_context& context() { return ioc_; }

 private:
  struct state;
  net::io_context& ioc_;
  std::uint16_t port_;
  std::shared_ptr<state> s_;
};

// Helpers for JSON frames.
std::string type_of(const json::object& o);
std::string str(const json::object& o, const char* key);  // "" when absent or not a string
bool has(const json::object& o, const char* key);
std::string to_string(const json::object& o);
std::int64_t now_ms();  // system clock, for server_time / ts checks

}  // namespace parley::it

#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "parley/cluster/redis_address.hpp"

struct redisAsyncContext;
struct redisReply;

namespace parley::cluster {

// One connection to Redis through hiredis's asynchronous API, driven by an Asio loop: hiredis
// parses and buffers, Asio waits for the socket (hiredis has no Asio adapter of its own, and
// Boost.Redis came after Debian 12's Boost). Not thread-safe: only the loop's thread may touch
// it, and its handlers run there.
class redis_connection {
 public:
  // A command's reply; null when the connection was lost before it came.
  using reply_handler = std::function<void(const redisReply*)>;

  // `on_up` runs once the connection is established; `on_down` when it is lost or could not be
  // made (with the reason). on_down may run inside hiredis: it must not call connect() itself
  // (the link retries from a timer).
  redis_connection(boost::asio::io_context& io, std::function<void()> on_up,
                   std::function<void(std::string_view why)> on_down);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  // Starts connecting; gives up (on_down) after `timeout`.
  void connect(const redis_address& to, std::chrono::milliseconds timeout);
  bool up() const { return up_; }
  // Sends a command (its words as they are, binary-safe); `done` runs with its reply. Does
  // nothing but call `done(nullptr)` when the connection is not up.
  void command(std::span<const std::string_view> words, reply_handler done);
  // SUBSCRIBE: `on_message(payload)` runs for each message published on `channel`, for as long
  // as the connection lasts.
  void subscribe(std::string_view channel, std::function<void()> subscribed,
                 std::function<void(std::string_view)> on_message);
  // Drops the connection (on_down is not called).
  void close();

 private:
  struct hooks;  // hiredis's callbacks, in the .cpp
  void watch(bool read);
  void on_ready(bool read, unsigned generation);
  void lost(std::string_view why);

  boost::asio::io_context& io_;
  std::function<void()> on_up_;
  std::function<void(std::string_view)> on_down_;
  redisAsyncContext* context_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> socket_;
  boost::asio::steady_timer connect_timer_;
  bool up_ = false;
  bool reading_ = false;
  bool writing_ = false;
  unsigned generation_ = 0;  // counts contexts, so that a late wake-up finds its own gone
  // The subscription's handlers live as long as the connection (hiredis calls them again for
  // every message).
  std::function<void()> subscribed_;
  std::function<void(std::string_view)> on_message_;
};

}  // namespace parley::cluster

#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "parley/net/http_session.hpp"
#include "parley/net/log_throttle.hpp"
#include "parley/net/worker.hpp"

namespace parley::net {

// Accepts TCP connections on the first worker's thread and hands each to the next worker in
// turn, where its http_session runs. Survives running out of file descriptors: it backs off
// and tries again, never exits, and logs the failure once a second at most.
class listener {
 public:
  // Binds and listens; throws on failure (a startup error).
  listener(std::vector<std::unique_ptr<worker>>& workers, const http_context& context,
           const boost::asio::ip::tcp::endpoint& endpoint);

  void start();
  // Stops accepting; safe from any thread.
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void accept();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket,
                 worker& target);

  std::vector<std::unique_ptr<worker>>& workers_;
  const http_context& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_;
  log_throttle accept_errors_{1};        // EMFILE repeats every backoff: one line a second
  boost::asio::ip::tcp::endpoint peer_;  // filled by the accept in flight (no getpeername)
  std::size_t next_worker_ = 0;
};

}  // namespace parley::net

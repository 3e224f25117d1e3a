#include "parley/net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "parley/net/http_session.hpp"

namespace parley::net {

namespace asio = boost::asio;

namespace {
// Pause after an accept error (such as EMFILE) before trying again: long enough not to spin,
// short enough that service resumes as soon as descriptors are free.
constexpr auto accept_backoff = std::chrono::milliseconds(50);
}  // namespace

listener::listener(std::vector<std::unique_ptr<worker>>& workers, const http_context& context,
                   const asio::ip::tcp::endpoint& endpoint)
    : workers_(workers),
      context_(context),
      acceptor_(workers.front()->io()),
      backoff_(workers.front()->io()) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void listener::start() {
  accept();
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
  });
}

void listener::accept() {
  worker& target = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_.async_accept(
      target.io(), peer_,
      [this, &target](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
        on_accept(ec, std::move(socket), target);
      });
}

void listener::on_accept(const boost::system::error_code& ec, asio::ip::tcp::socket socket,
                         worker& target) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    if (auto left_out = accept_errors_.admit(std::chrono::steady_clock::now())) {
      spdlog::warn(
          "accept failed: {}; retrying every {} ms ({} more failures since the last "
          "report; at most one a second is logged)",
          ec.message(), accept_backoff.count(), *left_out);
    }
    backoff_.expires_after(accept_backoff);
    backoff_.async_wait([this](const boost::system::error_code& wait_ec) {
      if (!wait_ec && acceptor_.is_open()) accept();
    });
    return;
  }
  // The socket belongs to the target's io_context: its session starts on that thread.
  asio::post(target.io(), [this, &target, socket = std::move(socket), peer = peer_]() mutable {
    std::make_shared<http_session>(target, context_, std::move(socket), peer)->start();
  });
  accept();
}

}  // namespace parley::net

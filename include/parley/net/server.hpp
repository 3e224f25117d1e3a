#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "parley/cluster/cluster_link.hpp"
#include "parley/core/hub.hpp"
#include "parley/net/http_session.hpp"
#include "parley/net/ip_limits.hpp"
#include "parley/net/listener.hpp"
#include "parley/net/server_config.hpp"
#include "parley/net/static_files.hpp"
#include "parley/net/tls_context.hpp"
#include "parley/net/worker.hpp"
#include "parley/store/durable_store.hpp"

namespace parley::net {

// The whole server: the hub, one worker per thread, the listener.
class server {
 public:
  // Opens the store and binds the listening socket; throws on a startup error (bad address,
  // port in use, no static dir, unusable TLS certificate or key, a store it cannot open).
  explicit server(server_config config);
  ~server();

  boost::asio::ip::tcp::endpoint local_endpoint() const { return listener_->local_endpoint(); }
  // The --admin-listen port, when there is one.
  std::optional<boost::asio::ip::tcp::endpoint> admin_endpoint() const;

  // Serves until stop() and returns once every thread has ended. Runs the first worker on
  // the calling thread.
  void run();
  // Graceful stop, safe from any thread (a signal handler's strand): stops accepting, closes
  // every WebSocket with 1001, and ends the threads once they are closed or after
  // `drain_seconds`.
  void stop(double drain_seconds);
  // Applies the reloadable settings of `next` (server_config.hpp: reloadable_settings): with
  // TLS, loads its certificate and key again for new connections. Safe from any thread; each
  // worker takes the new values on its own thread, ip_limits under its lock. Throws
  // std::runtime_error, having changed nothing, when the certificate or key cannot be used.
  void reload(const server_config& next);

 private:
  void drain(std::chrono::steady_clock::time_point deadline);
  void join_cluster();

  server_config config_;
  core::hub hub_;
  // With --cluster-redis: this node's link to the others. Made before the store and the
  // workers, and destroyed after them, so that every connection's leave still reaches it.
  std::unique_ptr<cluster::cluster_link> cluster_;
  core::ban_list bans_;  // the admin API's bans, checked at each upgrade
  // Null without a store. Stopped in ~server once the workers are: its answers go to sessions.
  std::unique_ptr<store::durable_store> store_;
  ip_limits addresses_;  // before workers_: their sessions hold slots until they are destroyed
  static_files files_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::optional<core::token_verifier> tokens_;
  // Refused connections are logged at info, 20 lines a second at most: enough to see who is
  // refused and why, too few for a flood of refusals to fill the disk.
  log_throttle refusal_log_{20};
  std::optional<http_context> http_;
  std::optional<http_context> admin_http_;  // with --admin-listen: the operator's port
  std::unique_ptr<listener> listener_;
  std::unique_ptr<listener> admin_listener_;
  std::vector<std::thread> threads_;
  std::optional<boost::asio::steady_timer> drain_timer_;  // on the first worker
};

}  // namespace parley::net

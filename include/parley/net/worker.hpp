#pragma once
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "parley/core/chat_connection.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/counters.hpp"
#include "parley/core/hub.hpp"
#include "parley/core/message_store.hpp"
#include "parley/net/origin_policy.hpp"
#include "parley/net/poller.hpp"
#include "parley/net/server_config.hpp"
#include "parley/net/tls_context.hpp"
#include "parley/net/trusted_proxies.hpp"
#include "parley/protocol/client_request.hpp"
#include "parley/protocol/ws_frame.hpp"
#include "parley/protocol/ws_reader.hpp"

namespace parley::net {

class ws_session;

// Hook by which a worker lists its sessions without allocating; a session unlinks itself.
using session_hook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

// One thread of the server: its io_context, and what its connections share so that an idle
// connection holds none of it: the readiness poller, the read buffer, the JSON parser, and one
// timer that drives every session's pings, slow-reader and close deadlines. It keeps its own
// copy of the settings, the allowed origins, the trusted proxies and the TLS context, which
// post_reload() changes on its thread: its sessions read them without locks. Everything but io(),
// post_close_all(), post_reload() and on_this_thread() is for the worker's own thread.
class worker {
 public:
  // `store` is null without a store (protocol version 1); `tls` null without TLS.
  worker(const server_config& config, core::hub& hub, core::message_store* store,
         std::shared_ptr<const tls_context> tls);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  boost::asio::io_context& io() { return io_; }
  net::poller& poller() { return poller_; }
  // Runs the event loop on the calling thread until stop().
  void run();
  void stop() { io_.stop(); }
  bool on_this_thread() const noexcept;

  const server_config& config() const { return config_; }
  const origin_policy& origins() const { return origins_; }
  const trusted_proxies& proxies() const { return proxies_; }
  // The TLS context of new connections; null without TLS.
  SSL_CTX* tls() const { return tls_ ? tls_->native() : nullptr; }
  core::hub& hub() { return hub_; }
  core::message_store* store() { return store_; }
  protocol::request_parser& parser() { return parser_; }
  core::counters& stats() { return stats_; }
  const core::counters& stats() const { return stats_; }
  // The hub, store, parser, limits and counters, as the chat connections hold them.
  const core::chat_services& chat_services() const { return chat_services_; }
  // The frame limits (not reloadable), as the sessions' readers hold them.
  const protocol::ws_reader_limits& reader_limits() const { return reader_limits_; }
  char* read_buffer() { return read_buffer_.data(); }
  std::size_t read_buffer_size() const { return read_buffer_.size(); }
  const protocol::shared_frame& ping_frame() const { return ping_frame_; }
  // The clocks read once for the bytes a session has just read: every message parsed from
  // them is stamped with it (read_time() until the next stamp).
  const core::moment& stamp_read() { return read_time_ = core::moment::now(); }
  const core::moment& read_time() const { return read_time_; }

  void add(ws_session& session);
  void remove(ws_session& session);
  // Writes the session's queued frames once the current handler (or the poller's batch of
  // events) is done, together with whatever else it queues for the session: one write call
  // per turn.
  void flush_soon(std::shared_ptr<ws_session> session);
  // Hands `frame` (and, when `store_done`, the end of a store answer) to `session` on this
  // worker's thread, from any other thread. What one thread posts arrives in order; a burst
  // of posts costs one wake-up of the loop, not one each.
  void post_to(std::shared_ptr<ws_session> session, protocol::shared_frame frame, bool store_done);
  // Closes every session with 1001 (server going away); safe from any thread.
  void post_close_all();
  // Takes the reloadable settings of `next` (copy_reloadable) and, when not null, `tls` for new
  // connections, on the worker's thread; safe from any thread.
  void post_reload(const server_config& next, std::shared_ptr<const tls_context> tls);
  // Ends every session that is still open, after the loop has stopped (the drain time ran
  // out): they leave the hub, so nothing outlives the io_context their sockets belong to.
  void abandon_sessions();
  // Open WebSocket sessions; safe from any thread.
  std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }

 private:
  using session_list = boost::intrusive::list<ws_session, boost::intrusive::base_hook<session_hook>,
                                              boost::intrusive::constant_time_size<false>>;

  void schedule_tick();
  void tick();
  void flush_all();
  void drain_mailbox();

  server_config config_;
  origin_policy origins_;
  trusted_proxies proxies_;
  std::shared_ptr<const tls_context> tls_;
  core::hub& hub_;
  core::message_store* store_;
  boost::asio::io_context io_{1};  // one thread runs it: no locking inside Asio
  net::poller poller_{io_, [this] { flush_all(); }};
  boost::asio::steady_timer tick_timer_;
  std::chrono::steady_clock::duration tick_period_;
  std::vector<char> read_buffer_;
  protocol::request_parser parser_;
  core::counters stats_;
  core::chat_services chat_services_{hub_, store_, parser_, config_.chat, stats_};
  const protocol::ws_reader_limits reader_limits_{config_.max_text_bytes, config_.max_binary_bytes,
                                                  config_.max_message_fragments};
  protocol::shared_frame ping_frame_;
  core::moment read_time_{};
  session_list sessions_;
  std::atomic<std::size_t> session_count_{0};
  std::vector<std::shared_ptr<ws_session>> to_flush_;
  bool flush_posted_ = false;
  struct mail {
    std::shared_ptr<ws_session> to;
    protocol::shared_frame frame;
    bool store_done;
  };
  std::mutex mailbox_mutex_;  // guards mailbox_, filled from other threads
  std::vector<mail> mailbox_;
  std::vector<mail> delivering_;  // the batch being handed over; kept for its memory
};

}  // namespace parley::net

#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "parley/core/chat_connection.hpp"
#include "parley/core/sink.hpp"
#include "parley/net/close_state.hpp"
#include "parley/net/ip_limits.hpp"
#include "parley/net/liveness.hpp"
#include "parley/net/outbox.hpp"
#include "parley/net/peer_address.hpp"
#include "parley/net/transport.hpp"
#include "parley/net/worker.hpp"
#include "parley/protocol/ws_reader.hpp"

namespace parley::net {

// One WebSocket connection after the upgrade: owns the connection's transport, reads frames through
// a ws_reader, hands messages to its chat_connection, and writes a bounded outbox. It knows no
// other session. Everything runs on its worker's thread; deliver() alone may be called from
// any thread.
//
// The worker's poller says when the socket is readable or writable; reading goes into the
// worker's shared buffer, so an idle connection holds no read buffer and waits on nothing.
// Writing gathers every queued frame into one write call.
//
// The rules live in small parts with unit tests of their own: outbox (the queue and its
// limits), liveness (pings, token expiry) and close_state (the close handshake). The session
// keeps the socket, the reader and the chat_connection, and acts on what the parts answer.
//
// Lifetime: the session keeps itself alive from start() until finish() (the poller holds no
// reference), and lets go once the handler that finished it has returned.
class ws_session final : public core::sink,
                         public protocol::ws_reader_handler,
                         public poller::client,
                         public session_hook {
 public:
  using clock = std::chrono::steady_clock;

  // `received` holds bytes that arrived after the upgrade request, already read.
  // `address_slot`: the connection's place in its address's limits, given back when it ends.
  // `token_expires_at`: the last Unix second at which the connection's token is accepted (its
  // exp plus the verifier's skew: token_verifier::accepted_until), if it has one; past it the
  // connection is closed with 4001.
  ws_session(worker& owner, transport stream, std::string id, std::string received,
             peer_address peer, ip_limits::slot address_slot,
             std::optional<std::int64_t> token_expires_at = std::nullopt);
  ~ws_session() override;

  // The session's owner, from the shared_ptr it lives in (sink's enable_shared_from_this).
  std::shared_ptr<ws_session> shared_self() {
    return std::static_pointer_cast<ws_session>(shared_from_this());
  }
  // Sends the welcome, joins the hub and starts reading. On the worker's thread.
  void start();
  void deliver(protocol::shared_frame frame) override;
  void store_done(protocol::shared_frame last) override;
  description describe() const override;
  void request_close(protocol::close_code code, std::string_view reason) override;
  // What another thread sent through worker::post_to: a frame, and whether it ends a store
  // answer (store_done).
  void take_mail(protocol::shared_frame frame, bool store_done);
  // Drives pings, the slow-reader rule and the close deadline; called by the worker's timer.
  void tick(clock::time_point now);
  // Starts the close handshake with `code` (replies queued so far go first).
  void close(protocol::close_code code, std::string_view reason);
  // Drops the connection at once (the server is stopping and its loop has ended).
  void abandon() {
    finish(static_cast<std::uint16_t>(protocol::close_code::going_away), "server stopped");
  }
  // Writes what it can of the outbox now; waits for the socket when it is full.
  void flush();

 private:
  // ws_reader_handler
  void on_text(std::string_view payload) override;
  void on_text_too_large(std::size_t size) override;
  void on_binary(std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong() override;
  void on_close(std::uint16_t code, std::string_view reason) override;

  // poller::client
  void on_ready(std::uint32_t events) override;
  // Reads what the socket holds. `to_the_end`: the peer's end (or an error) is in the socket
  // too, so a short read does not mean the socket is done: read until it would block.
  void on_readable(bool to_the_end);
  // Reads again once the current handler has returned: bytes are waiting that no new
  // readiness event will announce.
  void read_soon(bool to_the_end);
  enum class read_outcome {
    filled,   // the buffer is full: more may be waiting
    partial,  // fewer bytes than asked: the socket had no more then
    nothing,  // would block, or the connection ended
  };
  read_outcome read_some();
  void heard(std::size_t bytes);
  void parse(char* data, std::size_t size);
  template <typename Handle>
  void on_message(Handle handle);
  void enqueue(protocol::shared_frame frame);
  void schedule_flush();
  void wait_writable();
  // Over the soft outbox limit for too long: closes with 4008 (true) or does nothing.
  bool check_outbox_limits(clock::time_point now);
  void ping_timed_out();
  // The peer's close frame came while the store still owes answers to earlier frames: the
  // close is answered once they are out (protocol.md: replies before the close frame), or at
  // the close deadline.
  void close_after_store(protocol::close_code reply);
  void on_store_done();
  void close_too_slow(std::string_view limit);
  // Our close frame answers the peer's (whose code stays the one reported).
  void answer_close(protocol::close_code reply);
  void send_close(protocol::close_code code, std::string_view reason);
  clock::time_point close_deadline() const;
  // Ends the connection now: closes the socket, leaves the hub, logs once.
  void finish(std::uint16_t code, std::string_view why);
  void count_close(std::uint16_t code);
  void log_finish(std::uint16_t code, std::string_view why) const;

  worker& worker_;
  std::shared_ptr<ws_session> self_;  // from start() until finish()
  transport transport_;
  peer_address peer_;
  ip_limits::slot address_slot_;
  core::chat_connection chat_;

  // An idle connection is the common one: its fields are kept small (RSS per connection is
  // one of the server's figures), so "not set" is a sentinel rather than an optional, and the
  // first frames queued fit in the session itself (see outbox).
  // What only a busy connection uses: made when the connection reads or queues a frame, given
  // back at the first tick that finds it quiet (open, nothing queued, no frame begun), so that
  // an idle connection holds a pointer instead of 112 bytes (docs/benchmarks.md). At a tick, not
  // after each flush: a chatting connection would otherwise remake it for every message (7 %
  // of the relay's rate, measured).
  struct busy_state {
    explicit busy_state(const protocol::ws_reader_limits& limits) : reader(limits) {}
    protocol::ws_reader reader;
    outbox frames;
    std::string partial;  // the start of a frame not yet complete
  };
  busy_state& busy();
  // Gives the busy state back when quiet. Called only from tick(), where nothing up the stack
  // holds it; finish() keeps it (a reader may be running), the session's end frees it.
  void release_if_quiet();
  std::unique_ptr<busy_state> busy_;
  liveness liveness_;
  close_state close_;
  bool waiting_writable_ = false;  // the poller will say when the socket takes more
  bool flush_pending_ = false;     // the worker will flush() at the end of this turn
  // For the admin API and the close log line: 32 bits each, so that they fill the padding
  // an idle connection pays anyway. Written on this thread, read from any. The start is
  // steady milliseconds modulo 2^32: durations are exact up to 49 days.
  std::uint32_t opened_ms_ = 0;
  std::atomic<std::uint32_t> messages_in_{0};
  std::atomic<std::uint32_t> messages_out_{0};
};

}  // namespace parley::net

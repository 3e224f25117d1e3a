#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parley/core/clock.hpp"
#include "parley/core/counters.hpp"
#include "parley/core/message_store.hpp"
#include "parley/core/rate_limiter.hpp"
#include "parley/core/router.hpp"
#include "parley/core/sink.hpp"
#include "parley/protocol/client_request.hpp"

namespace parley::core {

struct chat_limits {
  std::size_t max_who_ids = 1000;      // protocol.md: `who` lists at most 1000 ids
  std::size_t max_watched_ids = 1000;  // ids one connection may follow, so watching stays bounded
  std::size_t max_text_bytes = 65536;  // for the too_large message
  // Per connection: a bot may burst, but one client stays a small share of a core. 0: none.
  double max_messages_per_second = 5000;
  double max_bytes_per_second = 32.0 * 1024 * 1024;
  // Messages refused in a row for the rate before the connection is closed (1008).
  std::size_t max_rate_strikes = 100;
  // What `who` lists: every online id (the public demo), or only the asker's contacts, or
  // nothing (a support widget: customers must not learn of each other).
  presence_scope presence = presence_scope::all;
};

// What every connection of one thread shares, held by the connections by reference: one pointer
// each instead of five (an idle connection's bytes are one of the server's figures).
struct chat_services {
  router& routes;
  message_store* store;  // null without a store (protocol version 1 exactly)
  protocol::request_parser& parser;
  const chat_limits& limits;
  counters& stats;
};

// The chat protocol of one connection, with no I/O: turns the client's messages into router and
// store calls and replies. Its caller (the connection's own thread) calls one method at a time.
// With a store, messages and the store's requests wait for their answers off this thread; the
// answers come back through the connection's sink.
class chat_connection {
 public:
  // `self` is the connection's sink, which owns this object; `services` outlives it.
  chat_connection(const chat_services& services, std::string id, sink& self);
  ~chat_connection();

  // Sends `welcome`, then joins the router, which holds the sink until close(), and asks the
  // store for the inbox. First call; the sink must be owned by a shared_ptr by then.
  void open();
  // Requests sent to the store and not answered yet: replies to them are still to come.
  std::size_t store_pending() const { return store_pending_; }
  // The store answered one request (sink::store_done, on the connection's thread).
  void on_store_done() {
    if (store_pending_ > 0) --store_pending_;
  }
  // A message from the client, read at `at`.
  void on_text(std::string_view frame, const moment& at = moment::now());
  void on_binary(std::string_view frame, const moment& at = moment::now());
  void on_text_too_large(std::size_t size, const moment& at = moment::now());
  // True once the client has gone on sending over its rate for max_rate_strikes messages in a
  // row: its connection is to be closed with 1008.
  bool abusive() const { return strikes_ >= services_.limits.max_rate_strikes; }
  // Leaves the hub (partners get `left`); idempotent.
  void close();

  const std::string& id() const { return member_.id; }

 private:
  void handle(const protocol::request& request, const moment& at);
  void handle(const protocol::request_error& error, const moment& at);
  void handle(const protocol::msg_request& msg, const moment& at);
  void handle(const protocol::who_request& who, const moment& at);
  void handle(const protocol::watch_request& watch, const moment& at);
  void handle(const protocol::typing_request& typing, const moment& at);
  void handle(const protocol::ping_request& ping, const moment& at);
  void handle(const protocol::file_request& file, const moment& at);
  void handle(const protocol::read_request& read, const moment& at);
  void handle(const protocol::history_request& history, const moment& at);
  void handle(const protocol::conversations_request& conversations, const moment& at);
  // With a store: checks the recipient and hands the message to the store.
  void store_send(std::string_view to, protocol::optional_cid cid, outgoing_message message);
  // The client handed to the store, counted as waiting for an answer.
  store_client store_request();
  // Routes a frame built by `build(mid, ts)` to `to`, then acks or answers `offline`.
  template <typename Build>
  void route(std::string_view to, protocol::optional_cid cid, std::int64_t ts, Build build);
  void reply(protocol::shared_frame frame) { member_.self->deliver(std::move(frame)); }
  // Takes one message of `size` bytes from the rate buckets, or answers `rate_limited`.
  bool admit(std::size_t size, const moment& at);
  void reply_error(protocol::error_code code, protocol::optional_cid cid, std::string_view message,
                   protocol::optional_cid to = std::nullopt);

  const chat_services& services_;
  member member_;
  message_budget budget_;
  std::uint32_t strikes_ = 0;
  std::uint32_t store_pending_ = 0;
};

}  // namespace parley::core

#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "parley/core/router.hpp"
#include "parley/core/sink.hpp"

namespace parley::core {

// A connection that asked the store something: where the answers go. The shared sink keeps
// the connection, and so its member, alive until the store has answered.
struct store_client {
  std::shared_ptr<sink> self;
  const member* who;  // inside the connection that `self` keeps alive
};

// A message as the client sent it, copied out of the parser's views to wait for its commit.
struct outgoing_message {
  std::string to;
  std::optional<std::string> cid;
  bool binary = false;
  std::string body;  // the text, or a file's payload bytes
  std::optional<std::string> name;
  std::optional<std::string> mime;
};

struct history_query {
  std::string with;
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;
  std::int64_t limit;
  std::optional<std::string> cid;
};

struct conversations_query {
  std::int64_t limit;
  std::optional<double> before_ts;
  std::optional<std::string> cid;
};

// The store's state as /healthz reports it.
struct store_health {
  bool up = true;
  std::string reason;  // why it is down ("disk full", "read-only", ...); empty when up
};

// What conversations are kept in (protocol-v2): the core's view of a store. Every call queues
// the request and returns at once, from any thread; the store works on a thread of its own and
// answers through the client's sink (the acks, frames and errors of protocol-v2), having
// committed first whatever the answer depends on. The requests of one connection are answered
// in the order they were made, and each one is followed by exactly one sink::store_done().
class message_store {
 public:
  virtual ~message_store() = default;

  // Made once, when the store was created; `welcome` carries it.
  virtual std::string_view epoch() const = 0;
  virtual store_health health() const = 0;

  // Commits the message, hands it to the recipient and the sender's other connections, and
  // acks it (when it has a cid); or answers a duplicate's ack, inbox_full or unavailable.
  virtual void send(store_client from, outgoing_message message) = 0;
  // The messages that waited for the client's id, then `inbox`; their senders get receipts.
  virtual void push_inbox(store_client to) = 0;
  virtual void read(store_client reader, std::string with, std::int64_t seq,
                    std::optional<std::string> cid) = 0;
  virtual void history(store_client asker, history_query query) = 0;
  virtual void conversations(store_client asker, conversations_query query) = 0;
};

}  // namespace parley::core

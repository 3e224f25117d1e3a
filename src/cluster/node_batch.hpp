#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/remote_link.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::cluster {

// What one node publishes to another in one Redis message: a batch of records, in the order
// they happened on the sending node. Binary, length-prefixed: ids and payloads are copied as
// they are, with no escaping. Layout: "PB1", the origin node id (u16 length and bytes), then
// records, each a kind byte and its fields (strings as u16 length and bytes, payloads as u32).
enum class record_kind : std::uint8_t {
  message = 'M',  // from, to, opcode, payload: core::remote_delivery::message
  notify = 'N',   // from, to, opcode, payload: core::remote_delivery::notify
  online = '+',   // id: the origin's first connection of id opened
  offline = '-',  // id: the origin's last connection of id closed
  hello = 'H',    // ids: the origin holds exactly these; answer with your own `state`
  state = 'S',    // ids: the origin holds exactly these
  gone = 'G',     // the origin is stopping: its connections are closed
};

// One record read back; the views point into the batch's bytes.
struct record {
  record_kind kind;
  std::string_view from, to;  // message, notify; `to` is the id for online and offline
  protocol::opcode op = protocol::opcode::text;
  std::string_view payload;
  std::vector<std::string_view> ids;  // hello, state
};

// Appends records to a batch for one destination node. Not thread-safe: the link appends under
// its queue's lock.
class batch_writer {
 public:
  explicit batch_writer(std::string_view origin) : origin_(origin) {}

  bool empty() const { return bytes_.empty(); }
  std::size_t size() const { return bytes_.size(); }
  // The batch so far; the writer is empty again afterwards.
  std::string take();

  void message(core::remote_delivery how, std::string_view from, std::string_view to,
               const protocol::frame& frame);
  void presence(std::string_view id, bool online);
  void ids(record_kind kind, std::span<const std::string_view> ids);  // hello or state
  void gone();

 private:
  void start();
  void put(std::string_view text);
  void put_long(std::string_view bytes);

  std::string origin_;
  std::string bytes_;
};

// Reads a batch: its origin, and each record handed to `on_record` in order. False when the
// bytes are not a well-formed batch (what was handed over before the fault stays handed over).
template <typename OnRecord>
bool read_batch(std::string_view bytes, std::string_view& origin, OnRecord&& on_record);

// The non-template part of read_batch: the header, and one record from `rest`.
bool read_origin(std::string_view& rest, std::string_view& origin);
bool read_record(std::string_view& rest, record& out);

template <typename OnRecord>
bool read_batch(std::string_view bytes, std::string_view& origin, OnRecord&& on_record) {
  if (!read_origin(bytes, origin)) return false;
  record r;
  while (!bytes.empty()) {
    if (!read_record(bytes, r)) return false;
    on_record(r);
  }
  return true;
}

}  // namespace parley::cluster

#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "parley/protocol/error_code.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::protocol {

// Builders for every server-to-client frame of protocol.md, each returning the complete
// WebSocket frame, ready to be shared by all its recipients.

// A stored message's seq; no_seq without a store (version 1 frames carry none).
inline constexpr std::int64_t no_seq = 0;

// `epoch` is set when a store is on (protocol-v2).
shared_frame welcome_frame(std::string_view id, std::int64_t server_time,
                           std::optional<std::string_view> epoch = {});
shared_frame chat_message_frame(std::string_view from, std::string_view to, std::string_view text,
                                std::string_view mid, std::int64_t ts, std::int64_t seq = no_seq);
// Version 1's ack: handed to the recipient's connections.
shared_frame ack_frame(std::string_view cid, std::string_view mid);

// protocol-v2: the ack of a committed message.
enum class delivery_status { stored, delivered };
struct stored_ack {
  std::string_view cid;
  std::string_view mid;
  std::int64_t seq;
  std::int64_t ts;
  delivery_status status;
  bool duplicate;  // a retry of a message already stored
};
shared_frame stored_ack_frame(const stored_ack& ack);
enum class receipt_kind { delivered, read };
// To a sender's connections: every message of the conversation with `with` up to `seq` has
// reached (or been read by) `with`.
shared_frame receipt_frame(std::string_view with, std::int64_t seq, receipt_kind kind);
// To a reader's other connections: it has read its conversation with `with` up to `seq`.
shared_frame read_sync_frame(std::string_view with, std::int64_t seq);
shared_frame inbox_frame(std::size_t count, bool more);
shared_frame history_frame(std::string_view with, std::optional<std::string_view> cid,
                           std::size_t count, bool more, std::int64_t first_seq);

// One item of a `conversations` reply.
struct conversation_summary {
  std::string with;
  std::int64_t last_seq = 0;
  std::int64_t last_ts = 0;
  std::int64_t unread = 0;
  std::int64_t read = 0;
  std::int64_t delivered = 0;
  std::int64_t peer_read = 0;
  std::int64_t peer_delivered = 0;
  // The last message: its sender and seq, and its text's first 200 bytes or its file's name
  // and mime.
  std::string last_from;
  std::optional<std::string> last_text;
  std::optional<std::string> last_name;
  std::optional<std::string> last_mime;
};
shared_frame conversations_frame(std::span<const conversation_summary> items, bool more,
                                 std::optional<std::string_view> cid);
// `to` is set for `offline` only.
shared_frame error_frame(error_code code, std::optional<std::string_view> cid,
                         std::string_view message, std::optional<std::string_view> to = {});
shared_frame left_frame(std::string_view id);
shared_frame who_frame(std::span<const std::string_view> online, std::size_t total,
                       std::optional<std::string_view> cid);
shared_frame presence_frame(std::string_view id, bool online);
shared_frame typing_frame(std::string_view from);
shared_frame pong_frame(std::int64_t server_time, std::optional<std::string_view> cid);

struct file_header {
  std::string_view from;
  std::string_view to;
  std::optional<std::string_view> name;
  std::optional<std::string_view> mime;
  std::string_view mid;
  std::int64_t ts;
  std::int64_t seq = no_seq;
};
// The binary frame a file's recipients get: [2-byte length][header JSON][payload].
shared_frame file_frame(const file_header& header, std::string_view payload);

}  // namespace parley::protocol

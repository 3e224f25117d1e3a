#include "parley/protocol/server_frames.hpp"

#include "parley/protocol/json_writer.hpp"

namespace parley::protocol {

namespace {

// The thread's buffer for writing a frame's JSON before it is copied into the frame: no
// allocation per frame once it has grown. One that grew past a large frame is given back.
constexpr std::size_t scratch_keep_bytes = 64 * 1024;

std::string& scratch() {
  thread_local std::string buffer;
  if (buffer.capacity() > scratch_keep_bytes) buffer = std::string();
  return buffer;
}

// Builds a text frame from a function that writes the object's fields.
template <typename Write>
shared_frame text_frame(Write write) {
  std::string& json = scratch();
  {
    json_writer writer(json, 0);
    write(writer);
    writer.finish();
  }
  return frame::make(opcode::text, {json});
}

void maybe_cid(json_writer& w, std::optional<std::string_view> cid) {
  if (cid) w.string_field("cid", *cid);
}

void maybe_seq(json_writer& w, std::int64_t seq) {
  if (seq != no_seq) w.int_field("seq", seq);
}

std::string_view status_name(delivery_status status) {
  return status == delivery_status::delivered ? "delivered" : "stored";
}

}  // namespace

shared_frame welcome_frame(std::string_view id, std::int64_t server_time,
                           std::optional<std::string_view> epoch) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "welcome").string_field("id", id).int_field("server_time", server_time);
    if (epoch) w.string_field("epoch", *epoch);
  });
}

shared_frame chat_message_frame(std::string_view from, std::string_view to, std::string_view text,
                                std::string_view mid, std::int64_t ts, std::int64_t seq) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "msg").string_field("from", from).string_field("to", to);
    w.string_field("text", text).string_field("mid", mid);
    maybe_seq(w, seq);
    w.int_field("ts", ts);
  });
}

shared_frame ack_frame(std::string_view cid, std::string_view mid) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "ack").string_field("cid", cid).string_field("mid", mid);
    w.string_field("status", "delivered");
  });
}

shared_frame stored_ack_frame(const stored_ack& ack) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "ack").string_field("cid", ack.cid).string_field("mid", ack.mid);
    w.int_field("seq", ack.seq).int_field("ts", ack.ts);
    w.string_field("status", status_name(ack.status));
    if (ack.duplicate) w.bool_field("duplicate", true);
  });
}

shared_frame receipt_frame(std::string_view with, std::int64_t seq, receipt_kind kind) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "receipt").string_field("with", with).int_field("seq", seq);
    w.string_field("status", kind == receipt_kind::read ? "read" : "delivered");
  });
}

shared_frame read_sync_frame(std::string_view with, std::int64_t seq) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "read").string_field("with", with).int_field("seq", seq);
  });
}

shared_frame inbox_frame(std::size_t count, bool more) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "inbox").int_field("count", static_cast<std::int64_t>(count));
    w.bool_field("more", more);
  });
}

shared_frame history_frame(std::string_view with, std::optional<std::string_view> cid,
                           std::size_t count, bool more, std::int64_t first_seq) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "history").string_field("with", with);
    maybe_cid(w, cid);
    w.int_field("count", static_cast<std::int64_t>(count)).bool_field("more", more);
    w.int_field("first_seq", first_seq);
  });
}

shared_frame conversations_frame(std::span<const conversation_summary> items, bool more,
                                 std::optional<std::string_view> cid) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "conversations");
    maybe_cid(w, cid);
    w.open_array("items");
    for (const conversation_summary& c : items) {
      w.open_object_item().string_field("with", c.with);
      w.int_field("last_seq", c.last_seq).int_field("last_ts", c.last_ts);
      w.int_field("unread", c.unread).int_field("read", c.read).int_field("delivered", c.delivered);
      w.int_field("peer_read", c.peer_read).int_field("peer_delivered", c.peer_delivered);
      w.open_object("last").string_field("from", c.last_from).int_field("seq", c.last_seq);
      if (c.last_text) w.string_field("text", *c.last_text);
      if (c.last_name) w.string_field("name", *c.last_name);
      if (c.last_mime) w.string_field("mime", *c.last_mime);
      w.close_object().close_object();
    }
    w.close_array().bool_field("more", more);
  });
}

shared_frame error_frame(error_code code, std::optional<std::string_view> cid,
                         std::string_view message, std::optional<std::string_view> to) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "error").string_field("code", to_string(code));
    maybe_cid(w, cid);
    if (to) w.string_field("to", *to);
    w.string_field("message", message);
  });
}

shared_frame left_frame(std::string_view id) {
  return text_frame([&](json_writer& w) { w.string_field("type", "left").string_field("id", id); });
}

shared_frame who_frame(std::span<const std::string_view> online, std::size_t total,
                       std::optional<std::string_view> cid) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "who").open_array("online");
    for (std::string_view id : online)
      w.array_item(id);
    w.close_array().int_field("total", static_cast<std::int64_t>(total));
    maybe_cid(w, cid);
  });
}

shared_frame presence_frame(std::string_view id, bool online) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "presence").string_field("id", id).bool_field("online", online);
  });
}

shared_frame typing_frame(std::string_view from) {
  return text_frame(
      [&](json_writer& w) { w.string_field("type", "typing").string_field("from", from); });
}

shared_frame pong_frame(std::int64_t server_time, std::optional<std::string_view> cid) {
  return text_frame([&](json_writer& w) {
    w.string_field("type", "pong").int_field("server_time", server_time);
    maybe_cid(w, cid);
  });
}

shared_frame file_frame(const file_header& header, std::string_view payload) {
  std::string& json = scratch();
  {
    json_writer w(json, 2);  // after the header's length, set below
    w.string_field("from", header.from).string_field("to", header.to);
    if (header.name) w.string_field("name", *header.name);
    if (header.mime) w.string_field("mime", *header.mime);
    w.string_field("mid", header.mid);
    maybe_seq(w, header.seq);
    w.int_field("ts", header.ts);
    w.finish();
  }
  // ids (64), name (255) and mime (127) bytes, even all escaped, stay far below 65535.
  std::size_t json_size = json.size() - 2;
  json[0] = static_cast<char>(json_size >> 8);
  json[1] = static_cast<char>(json_size & 0xFF);
  return frame::make(opcode::binary, {json, payload});
}

}  // namespace parley::protocol

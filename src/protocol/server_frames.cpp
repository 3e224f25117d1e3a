#include "parley/protocol/server_frames.hpp"

#include "parley/protocol/json_writer.hpp"

namespace parley::protocol {

namespace {

// Builds a text frame from a function that writes the object's fields.
template <typename Write>
shared_frame text_frame(std::size_t size_hint, Write write) {
  std::string buffer = frame_buffer(size_hint);
  json_writer writer(buffer);
  write(writer);
  writer.finish();
  return make_frame(opcode::text, std::move(buffer));
}

void maybe_cid(json_writer& w, std::optional<std::string_view> cid) {
  if (cid) w.string_field("cid", *cid);
}

}  // namespace

shared_frame welcome_frame(std::string_view id, std::int64_t server_time) {
  return text_frame(64 + id.size(), [&](json_writer& w) {
    w.string_field("type", "welcome").string_field("id", id).int_field("server_time", server_time);
  });
}

shared_frame chat_message_frame(std::string_view from, std::string_view to, std::string_view text,
                                std::string_view mid, std::int64_t ts) {
  std::size_t hint = 80 + from.size() + to.size() + text.size() + text.size() / 8 + mid.size();
  return text_frame(hint, [&](json_writer& w) {
    w.string_field("type", "msg").string_field("from", from).string_field("to", to);
    w.string_field("text", text).string_field("mid", mid).int_field("ts", ts);
  });
}

shared_frame ack_frame(std::string_view cid, std::string_view mid) {
  return text_frame(64 + cid.size() + mid.size(), [&](json_writer& w) {
    w.string_field("type", "ack").string_field("cid", cid).string_field("mid", mid);
    w.string_field("status", "delivered");
  });
}

shared_frame error_frame(error_code code, std::optional<std::string_view> cid,
                         std::string_view message, std::optional<std::string_view> to) {
  return text_frame(128 + message.size(), [&](json_writer& w) {
    w.string_field("type", "error").string_field("code", to_string(code));
    maybe_cid(w, cid);
    if (to) w.string_field("to", *to);
    w.string_field("message", message);
  });
}

shared_frame left_frame(std::string_view id) {
  return text_frame(32 + id.size(),
                    [&](json_writer& w) { w.string_field("type", "left").string_field("id", id); });
}

shared_frame who_frame(std::span<const std::string_view> online, std::size_t total,
                       std::optional<std::string_view> cid) {
  return text_frame(64 + online.size() * 16, [&](json_writer& w) {
    w.string_field("type", "who").open_array("online");
    for (std::string_view id : online)
      w.array_item(id);
    w.close_array().int_field("total", static_cast<std::int64_t>(total));
    maybe_cid(w, cid);
  });
}

shared_frame presence_frame(std::string_view id, bool online) {
  return text_frame(64 + id.size(), [&](json_writer& w) {
    w.string_field("type", "presence").string_field("id", id).bool_field("online", online);
  });
}

shared_frame typing_frame(std::string_view from) {
  return text_frame(32 + from.size(), [&](json_writer& w) {
    w.string_field("type", "typing").string_field("from", from);
  });
}

shared_frame pong_frame(std::int64_t server_time, std::optional<std::string_view> cid) {
  return text_frame(64, [&](json_writer& w) {
    w.string_field("type", "pong").int_field("server_time", server_time);
    maybe_cid(w, cid);
  });
}

shared_frame file_frame(const file_header& header, std::string_view payload) {
  std::string buffer = frame_buffer(2 + 512 + payload.size());
  buffer.append(2, '\0');  // the header length, set below
  std::size_t json_start = buffer.size();
  json_writer w(buffer);
  w.string_field("from", header.from).string_field("to", header.to);
  if (header.name) w.string_field("name", *header.name);
  if (header.mime) w.string_field("mime", *header.mime);
  w.string_field("mid", header.mid).int_field("ts", header.ts);
  w.finish();
  // ids (64), name (255) and mime (127) bytes, even all escaped, stay far below 65535.
  std::size_t json_size = buffer.size() - json_start;
  buffer[json_start - 2] = static_cast<char>(json_size >> 8);
  buffer[json_start - 1] = static_cast<char>(json_size & 0xFF);
  buffer.append(payload);
  return make_frame(opcode::binary, std::move(buffer));
}

}  // namespace parley::protocol

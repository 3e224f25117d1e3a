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

shared_frame welcome_frame(std::string_view id, std::int64_t server_time);
shared_frame chat_message_frame(std::string_view from, std::string_view to, std::string_view text,
                                std::string_view mid, std::int64_t ts);
shared_frame ack_frame(std::string_view cid, std::string_view mid);
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
};
// The binary frame a file's recipients get: [2-byte length][header JSON][payload].
shared_frame file_frame(const file_header& header, std::string_view payload);

}  // namespace parley::protocol

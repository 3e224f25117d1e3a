#pragma once
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "parley/protocol/error_code.hpp"

namespace parley::protocol {

// Every string_view in a request points into the parser that produced it (or into the frame,
// for a file payload) and is valid until that parser's next parse.
using optional_cid = std::optional<std::string_view>;

struct request_error {
  error_code code;
  std::string_view message;
  optional_cid cid;
};
struct msg_request {
  std::string_view to;
  std::string_view text;
  optional_cid cid;
};
struct who_request {
  optional_cid cid;
};
struct watch_request {
  std::vector<std::string_view> ids;  // distinct strings of at most 64 bytes
  optional_cid cid;
};
struct typing_request {
  std::string_view to;
  optional_cid cid;
};
struct ping_request {
  optional_cid cid;
};
// A binary frame: a file or image for `to`.
struct file_request {
  std::string_view to;
  std::optional<std::string_view> name;
  std::optional<std::string_view> mime;
  optional_cid cid;
  std::string_view payload;
};

using request = std::variant<request_error, msg_request, who_request, watch_request, typing_request,
                             ping_request, file_request>;

struct request_limits {
  std::size_t max_watch_ids = 1000;  // ids in one `watch`
};

// Field limits of protocol.md.
inline constexpr std::size_t max_cid_bytes = 64;
inline constexpr std::size_t max_file_name_bytes = 255;
inline constexpr std::size_t max_file_mime_bytes = 127;
inline constexpr std::size_t max_json_depth = 32;

// Turns client frames into requests, checking them against protocol.md. One parser per
// thread: it reuses its memory from one frame to the next.
class request_parser {
 public:
  explicit request_parser(request_limits limits = {});

  request parse_text(std::string_view frame);
  request parse_binary(std::string_view frame);

 private:
  // The frame's JSON object, or a request_error (bad_json) in `error`.
  const boost::json::object* parse_object(std::string_view text, request_error& error);

  request_limits limits_;
  unsigned char initial_buffer_[4096];
  std::optional<boost::json::monotonic_resource> memory_;  // over initial_buffer_ first
  std::optional<boost::json::value> value_;                // lives in memory_
};

}  // namespace parley::protocol

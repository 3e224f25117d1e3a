#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
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

// protocol-v2 (with a store): the reader has read its conversation with `with` up to `seq`.
struct read_request {
  std::string_view with;  // a valid client id
  std::int64_t seq;       // >= 0
  optional_cid cid;
};
// protocol-v2: a page of the conversation with `with`.
struct history_request {
  std::string_view with;               // a valid client id
  std::optional<std::int64_t> before;  // at most one of before and after; each >= 0
  std::optional<std::int64_t> after;
  std::int64_t limit;  // 1 to max_page_items
  optional_cid cid;
};
// protocol-v2: the asker's conversations, newest activity first.
struct conversations_request {
  std::int64_t limit;               // 1 to max_page_items
  std::optional<double> before_ts;  // only items whose last_ts is earlier
  optional_cid cid;
};

using request =
    std::variant<request_error, msg_request, who_request, watch_request, typing_request,
                 ping_request, file_request, read_request, history_request, conversations_request>;

struct request_limits {
  std::size_t max_watch_ids = 1000;  // ids in one `watch`
  // The store's requests (read, history, conversations) exist only with a store; without one
  // they are unknown types, as in version 1.
  bool store_requests = false;
};

// protocol-v2: messages or conversations in one page, and a page's default size.
inline constexpr std::int64_t max_page_items = 200;
inline constexpr std::int64_t default_page_items = 50;

// Field limits of protocol.md.
inline constexpr std::size_t max_cid_bytes = 64;
inline constexpr std::size_t max_file_name_bytes = 255;
inline constexpr std::size_t max_file_mime_bytes = 127;
inline constexpr std::size_t max_json_depth = 32;

// Turns client frames into requests, checking them against protocol.md. One parser per
// thread: it reuses its memory from one frame to the next. The JSON is read in one streaming
// pass that keeps only the top-level fields protocol.md names; no document tree is built.
class request_parser {
 public:
  explicit request_parser(request_limits limits = {});
  ~request_parser();
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  request parse_text(std::string_view frame);
  request parse_binary(std::string_view frame);

 private:
  class frame_reader;  // Boost.JSON's SAX parser and what it keeps; in client_request.cpp

  request_limits limits_;
  std::unique_ptr<frame_reader> reader_;
};

}  // namespace parley::protocol

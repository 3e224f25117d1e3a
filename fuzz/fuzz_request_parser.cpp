// libFuzzer target: the chat message codec (request_parser::parse_text) and the binary header
// parser (parse_binary), on arbitrary frames. One parser serves every input, as one serves
// every frame of a worker thread, so state left from one parse that leaks into the next shows.
//
// Input: [mode byte][frame...]; mode bit 0 picks text or binary.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "parley/protocol/client_request.hpp"
#include "parley/protocol/utf8_validator.hpp"

namespace {

using namespace parley::protocol;

constexpr std::size_t max_id_bytes = 64;

void check_cid(const optional_cid& cid) {
  if (cid) FUZZ_CHECK(cid->size() <= max_cid_bytes);
}

// Touches every byte of a view, so a view into freed or stale memory is caught by ASan.
std::size_t touch(std::string_view s) {
  std::size_t sum = 0;
  for (char c : s)
    sum += static_cast<unsigned char>(c);
  return sum;
}

struct checker {
  std::string_view frame;
  bool binary;
  std::size_t max_watch_ids;

  void operator()(const request_error& e) const {
    check_cid(e.cid);
    FUZZ_CHECK(!e.message.empty());
    touch(e.message);
  }
  void operator()(const msg_request& m) const {
    FUZZ_CHECK(!binary);
    FUZZ_CHECK(m.to.size() <= max_id_bytes);
    check_cid(m.cid);
    FUZZ_CHECK(utf8_validator::is_valid(m.text));
    touch(m.text);
  }
  void operator()(const who_request& w) const {
    FUZZ_CHECK(!binary);
    check_cid(w.cid);
  }
  void operator()(const watch_request& w) const {
    FUZZ_CHECK(!binary);
    check_cid(w.cid);
    FUZZ_CHECK(w.ids.size() <= max_watch_ids);
    for (std::size_t i = 0; i < w.ids.size(); ++i) {
      FUZZ_CHECK(w.ids[i].size() <= max_id_bytes);
      for (std::size_t j = 0; j < i; ++j)
        FUZZ_CHECK(w.ids[i] != w.ids[j]);
      touch(w.ids[i]);
    }
  }
  void operator()(const typing_request& t) const {
    FUZZ_CHECK(!binary);
    FUZZ_CHECK(t.to.size() <= max_id_bytes);
    check_cid(t.cid);
  }
  void operator()(const ping_request& p) const {
    FUZZ_CHECK(!binary);
    check_cid(p.cid);
  }
  void operator()(const file_request& f) const {
    FUZZ_CHECK(binary);
    FUZZ_CHECK(f.to.size() <= max_id_bytes);
    check_cid(f.cid);
    if (f.name) FUZZ_CHECK(f.name->size() <= max_file_name_bytes);
    if (f.mime) FUZZ_CHECK(f.mime->size() <= max_file_mime_bytes);
    // The payload is the frame's tail, after the 2-byte length and the header.
    FUZZ_CHECK(frame.size() >= 2);
    std::size_t header =
        (static_cast<unsigned char>(frame[0]) << 8) | static_cast<unsigned char>(frame[1]);
    FUZZ_CHECK(2 + header <= frame.size());
    FUZZ_CHECK(f.payload.data() == frame.data() + 2 + header);
    FUZZ_CHECK(f.payload.size() == frame.size() - 2 - header);
    touch(f.to);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static request_parser parser(request_limits{8});
  if (size < 1) return 0;
  bool binary = data[0] & 1;
  std::string frame(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A text frame reaches the parser only as valid UTF-8 (ws_reader checks it first).
  if (!binary && !utf8_validator::is_valid(frame)) return 0;
  request r = binary ? parser.parse_binary(frame) : parser.parse_text(frame);
  std::visit(checker{frame, binary, 8}, r);
  return 0;
}

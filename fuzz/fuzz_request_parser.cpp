// libFuzzer target: the chat message codec (request_parser::parse_text) and the binary header
// parser (parse_binary), on arbitrary frames. One parser serves every input, as one serves
// every frame of a worker thread, so state left from one parse that leaks into the next shows.
// Each frame is parsed twice: by a version-1 parser (no store: read, history and conversations
// are unknown types) and by one with store_requests (protocol-v2), and the two must agree on
// everything else.
//
// Input: [mode byte][frame...]; mode bit 0 picks text or binary.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "parley/protocol/client_id.hpp"
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

constexpr std::int64_t max_seq = 9007199254740991;  // 2^53 - 1

struct checker {
  std::string_view frame;
  bool binary;
  std::size_t max_watch_ids;
  bool store_requests;

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
  // protocol-v2 "Details": `with` a valid client id, seqs integers >= 0, at most one of before
  // and after, limit 1 to 200.
  void operator()(const read_request& r) const {
    FUZZ_CHECK(!binary && store_requests);
    FUZZ_CHECK(is_valid_client_id(r.with));
    FUZZ_CHECK(r.seq >= 0 && r.seq <= max_seq);
    check_cid(r.cid);
  }
  void operator()(const history_request& h) const {
    FUZZ_CHECK(!binary && store_requests);
    FUZZ_CHECK(is_valid_client_id(h.with));
    FUZZ_CHECK(!(h.before && h.after));
    if (h.before) FUZZ_CHECK(*h.before >= 0 && *h.before <= max_seq);
    if (h.after) FUZZ_CHECK(*h.after >= 0 && *h.after <= max_seq);
    FUZZ_CHECK(h.limit >= 1 && h.limit <= max_page_items);
    check_cid(h.cid);
  }
  void operator()(const conversations_request& c) const {
    FUZZ_CHECK(!binary && store_requests);
    FUZZ_CHECK(c.limit >= 1 && c.limit <= max_page_items);
    if (c.before_ts) FUZZ_CHECK(!std::isnan(*c.before_ts));
    check_cid(c.cid);
  }
};

bool is_store_request(const request& r) {
  return std::holds_alternative<read_request>(r) || std::holds_alternative<history_request>(r) ||
         std::holds_alternative<conversations_request>(r);
}

bool is_error(const request& r, error_code code) {
  const auto* e = std::get_if<request_error>(&r);
  return e && e->code == code;
}

// The cid a request carries, whatever its kind.
optional_cid cid_of(const request& r) {
  return std::visit([](const auto& x) -> optional_cid { return x.cid; }, r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t max_watch_ids = 8;
  static request_parser v1(request_limits{max_watch_ids});
  static request_parser v2(request_limits{max_watch_ids, true});
  if (size < 1) return 0;
  bool binary = data[0] & 1;
  std::string frame(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A text frame reaches the parser only as valid UTF-8 (ws_reader checks it first).
  if (!binary && !utf8_validator::is_valid(frame)) return 0;
  request old = binary ? v1.parse_binary(frame) : v1.parse_text(frame);
  request now = binary ? v2.parse_binary(frame) : v2.parse_text(frame);
  std::visit(checker{frame, binary, max_watch_ids, false}, old);
  std::visit(checker{frame, binary, max_watch_ids, true}, now);
  FUZZ_CHECK(cid_of(old) == cid_of(now));
  // Without a store the three types are unknown, as in version 1; the parser with them reads
  // them (or finds them bad) and agrees with it on every other frame.
  if (is_error(old, error_code::unknown_type) && !is_error(now, error_code::unknown_type)) {
    FUZZ_CHECK(is_store_request(now) || is_error(now, error_code::bad_request));
  } else {
    FUZZ_CHECK(old.index() == now.index());
    if (const auto* e = std::get_if<request_error>(&old)) {
      FUZZ_CHECK(std::get<request_error>(now).code == e->code);
      FUZZ_CHECK(std::get<request_error>(now).message == e->message);
    }
  }
  return 0;
}

#include "parley/protocol/ws_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "support/frames.hpp"

namespace parley::protocol {
namespace {

using test::bytes;
using test::client_frame;

// First bytes of client frames: FIN (0x80) or not, and the opcode.
constexpr std::uint8_t text_fin = 0x81, text_more = 0x01, binary_fin = 0x82, binary_more = 0x02,
                       cont_fin = 0x80, cont_more = 0x00, close_fin = 0x88, ping_fin = 0x89,
                       pong_fin = 0x8A;

struct event {
  std::string kind;          // text, too_large, binary, ping, pong, close
  std::uint64_t number = 0;  // the close code or the too-large size
  std::string payload;
  bool operator==(const event&) const = default;
};

void PrintTo(const event& e, std::ostream* os) {
  *os << e.kind << "(" << e.number << ", ";
  if (e.payload.size() > 40) {
    *os << e.payload.size() << " bytes";
  } else {
    *os << '"' << e.payload << '"';
  }
  *os << ")";
}

event text(std::string s) {
  return {"text", 0, std::move(s)};
}
event binary(std::string s) {
  return {"binary", 0, std::move(s)};
}
event ping(std::string s) {
  return {"ping", 0, std::move(s)};
}
event pong() {
  return {"pong", 0, ""};
}
event close_event(std::uint16_t code, std::string reason) {
  return {"close", code, std::move(reason)};
}
event too_large(std::size_t size) {
  return {"too_large", size, ""};
}

class recorder : public ws_reader_handler {
 public:
  void on_text(std::string_view payload) override { events.push_back(text(std::string(payload))); }
  void on_text_too_large(std::size_t size) override { events.push_back(too_large(size)); }
  void on_binary(std::string_view payload) override {
    events.push_back(binary(std::string(payload)));
  }
  void on_ping(std::string_view payload) override { events.push_back(ping(std::string(payload))); }
  void on_pong() override { events.push_back(pong()); }
  void on_close(std::uint16_t code, std::string_view reason) override {
    events.push_back(close_event(code, std::string(reason)));
  }
  std::vector<event> events;
};

constexpr ws_reader_limits default_limits{65536, 1 << 20, 1024};

struct outcome {
  std::vector<event> events;
  std::optional<close_code> failure;
  bool closed = false;
  std::size_t used = 0;  // bytes consumed in all
};

// Feeds `wire` in one call.
outcome feed_whole(std::string wire, ws_reader_limits limits = default_limits) {
  ws_reader reader(limits);
  recorder r;
  outcome out;
  out.used = reader.consume(wire.data(), wire.size(), r);
  out.events = r.events;
  out.failure = reader.failure();
  out.closed = reader.closed();
  return out;
}

// Feeds `wire` in pieces of the given sizes, as a caller does: it appends what arrives to the
// bytes left unconsumed and drops what consume() used. Checks that the bytes left are untouched.
outcome feed_pieces(const std::string& wire, const std::vector<std::size_t>& pieces,
                    ws_reader_limits limits = default_limits) {
  ws_reader reader(limits);
  recorder r;
  outcome out;
  std::string buffer;
  std::size_t pos = 0;
  for (std::size_t n : pieces) {
    buffer.append(wire, pos, n);
    pos += n;
    std::size_t used = reader.consume(buffer.data(), buffer.size(), r);
    EXPECT_LE(used, buffer.size());
    // The bytes left must be untouched; the front and back of them are checked, which keeps
    // byte-by-byte feeding of large frames quick.
    std::string_view left = std::string_view(buffer).substr(used);
    std::string_view sent = std::string_view(wire).substr(out.used + used, left.size());
    std::size_t edge = std::min<std::size_t>(left.size(), 512);
    EXPECT_EQ(left.substr(0, edge), sent.substr(0, edge)) << "unconsumed bytes were changed";
    EXPECT_EQ(left.substr(left.size() - edge), sent.substr(sent.size() - edge))
        << "unconsumed bytes were changed";
    buffer.erase(0, used);
    out.used += used;
  }
  out.events = r.events;
  out.failure = reader.failure();
  out.closed = reader.closed();
  return out;
}

outcome feed_byte_by_byte(const std::string& wire, ws_reader_limits limits = default_limits) {
  return feed_pieces(wire, std::vector<std::size_t>(wire.size(), 1), limits);
}

std::string payload_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(i * 13 + 5);
  return s;
}

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s)
    out += {digits[c >> 4], digits[c & 0xF], ' '};
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string p = bytes({code >> 8, code & 0xFF});
  p += reason;
  return p;
}

// --- RFC 6455 section 5.7 examples -----------------------------------------------------------

TEST(WsReader, RfcMaskedHello) {
  std::string wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  ASSERT_EQ(client_frame(text_fin, "Hello"), wire);  // the test helper masks as the RFC does
  outcome o = feed_whole(wire);
  EXPECT_EQ(o.events, std::vector<event>{text("Hello")});
  EXPECT_EQ(o.used, 11u);
  EXPECT_EQ(o.failure, std::nullopt);
  EXPECT_FALSE(o.closed);
}

TEST(WsReader, RfcUnmaskedHelloIsAProtocolError) {
  outcome o = feed_whole(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(o.failure, close_code::protocol_error);
  EXPECT_EQ(o.used, 0u);
}

TEST(WsReader, RfcFragmentedHello) {
  outcome o = feed_whole(client_frame(text_more, "Hel") + client_frame(cont_fin, "lo"));
  EXPECT_EQ(o.events, std::vector<event>{text("Hello")});
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, RfcPingAndMaskedPong) {
  std::string pong_wire = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  outcome o = feed_whole(client_frame(ping_fin, "Hello") + pong_wire);
  EXPECT_EQ(o.events, (std::vector<event>{ping("Hello"), pong()}));
  EXPECT_EQ(o.used, 22u);
}

TEST(WsReader, RfcBinary256AndSixtyFourKiB) {
  for (std::size_t n : {256u, 65536u}) {
    std::string payload = payload_of(n);
    std::string wire = client_frame(binary_fin, payload);
    ASSERT_EQ(wire.size(), n + (n == 256 ? 8 : 14));
    EXPECT_EQ(static_cast<unsigned char>(wire[1]), n == 256 ? 0xFE : 0xFF);
    outcome o = feed_whole(wire);
    EXPECT_EQ(o.events, std::vector<event>{binary(payload)}) << n;
    EXPECT_EQ(o.used, wire.size());
  }
}

// --- lengths ---------------------------------------------------------------------------------

TEST(WsReader, LengthsAtTheEdgesOfEachForm) {
  for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 65537u}) {
    std::string payload = payload_of(n);
    std::string wire = client_frame(binary_fin, payload);
    EXPECT_EQ(wire.size(), n + (n < 126 ? 6 : n <= 65535 ? 8 : 14)) << n;
    outcome o = feed_whole(wire);
    EXPECT_EQ(o.events, std::vector<event>{binary(payload)}) << n;
    EXPECT_EQ(o.used, wire.size()) << n;

    std::string text_payload(n, 'x');
    o = feed_byte_by_byte(client_frame(text_fin, text_payload), {1 << 20, 1 << 20, 1024});
    EXPECT_EQ(o.events, std::vector<event>{text(text_payload)}) << n;
  }
}

TEST(WsReader, NextFrameSizeOnceTheHeaderIsKnown) {
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    std::string wire = client_frame(binary_fin, payload_of(n));
    std::size_t header = wire.size() - n;
    ws_reader reader(default_limits);
    recorder r;
    std::string part = wire.substr(0, header - 1);
    EXPECT_EQ(reader.consume(part.data(), part.size(), r), 0u);
    EXPECT_EQ(reader.next_frame_size(), 0u) << n;  // the mask is not there yet
    if (n == 0) continue;
    part = wire.substr(0, header + n / 2);
    EXPECT_EQ(reader.consume(part.data(), part.size(), r), 0u);
    EXPECT_EQ(reader.next_frame_size(), wire.size()) << n;
    EXPECT_TRUE(r.events.empty());
    EXPECT_EQ(reader.consume(wire.data(), wire.size(), r), wire.size());
    EXPECT_EQ(reader.next_frame_size(), 0u);
    EXPECT_EQ(r.events.size(), 1u);
  }
}

TEST(WsReader, NextFrameSizeIsOfTheFrameAfterThoseConsumed) {
  std::string first = client_frame(text_fin, "one");
  std::string second = client_frame(binary_fin, payload_of(300));
  std::string wire = first + second.substr(0, 20);
  ws_reader reader(default_limits);
  recorder r;
  EXPECT_EQ(reader.consume(wire.data(), wire.size(), r), first.size());
  EXPECT_EQ(reader.next_frame_size(), second.size());
  EXPECT_EQ(r.events, std::vector<event>{text("one")});
}

TEST(WsReader, NothingToReadUsesNothing) {
  ws_reader reader(default_limits);
  recorder r;
  char none = 0;
  EXPECT_EQ(reader.consume(&none, 0, r), 0u);
  std::string one = bytes({0x81});
  EXPECT_EQ(reader.consume(one.data(), 1, r), 0u);
  EXPECT_TRUE(r.events.empty());
  EXPECT_FALSE(reader.stopped());
}

TEST(WsReader, SixtyFourBitLengthWithTopBitSetIsAProtocolError) {
  std::string wire = bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x05, 1, 2, 3, 4}) + "hello";
  outcome o = feed_whole(wire, {65536, ~std::size_t{0}, 1024});
  EXPECT_EQ(o.failure, close_code::protocol_error);
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(o.used, 0u);
}

// --- splitting -------------------------------------------------------------------------------

// Every kind of frame, with control frames inside a fragmented text that is itself split inside
// a character, and a close at the end.
std::string mixed_stream() {
  return client_frame(text_fin, "Hello") + client_frame(text_more, "caf\xC3", {1, 2, 3, 4}) +
         client_frame(ping_fin, "p") + client_frame(cont_more, "\xA9 \xE2\x82", {0, 0, 0, 0}) +
         client_frame(pong_fin, "") + client_frame(cont_fin, "\xAC!", {0xFF, 0xFF, 0xFF, 0xFF}) +
         client_frame(binary_fin, payload_of(300)) + client_frame(binary_more, "ab") +
         client_frame(cont_fin, "cd") + client_frame(text_fin, "") +
         client_frame(ping_fin, std::string(125, 'q')) +
         client_frame(binary_fin, payload_of(65536), {9, 8, 7, 6}) +
         client_frame(close_fin, close_payload(1000, "bye"));
}

std::vector<event> mixed_events() {
  return {text("Hello"),
          ping("p"),
          pong(),
          text("caf\xC3\xA9 \xE2\x82\xAC!"),
          binary(payload_of(300)),
          binary("abcd"),
          text(""),
          ping(std::string(125, 'q')),
          binary(payload_of(65536)),
          close_event(1000, "bye")};
}

TEST(WsReader, MixedStreamInOneCall) {
  std::string wire = mixed_stream();
  outcome o = feed_whole(wire);
  EXPECT_EQ(o.events, mixed_events());
  EXPECT_EQ(o.used, wire.size());
  EXPECT_TRUE(o.closed);
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, MixedStreamByteByByte) {
  std::string wire = mixed_stream();
  outcome o = feed_byte_by_byte(wire);
  EXPECT_EQ(o.events, mixed_events());
  EXPECT_EQ(o.used, wire.size());
  EXPECT_TRUE(o.closed);
}

TEST(WsReader, MixedStreamSplitAtEveryByte) {
  // Without the large frame, so that every split point stays quick.
  std::string wire = client_frame(text_fin, "Hello") + client_frame(text_more, "caf\xC3") +
                     client_frame(ping_fin, "p") + client_frame(cont_more, "\xA9 \xE2\x82") +
                     client_frame(pong_fin, "") + client_frame(cont_fin, "\xAC!") +
                     client_frame(binary_fin, payload_of(300)) +
                     client_frame(close_fin, close_payload(1001));
  std::vector<event> expected = {text("Hello"),
                                 ping("p"),
                                 pong(),
                                 text("caf\xC3\xA9 \xE2\x82\xAC!"),
                                 binary(payload_of(300)),
                                 close_event(1001, "")};
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    outcome o = feed_pieces(wire, {cut, wire.size() - cut});
    ASSERT_EQ(o.events, expected) << "cut at " << cut;
    ASSERT_EQ(o.used, wire.size()) << "cut at " << cut;
    ASSERT_TRUE(o.closed);
  }
}

TEST(WsReader, MixedStreamInRandomChunks) {
  std::string wire = mixed_stream();
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<std::size_t> size(0, seed % 2 ? 20 : 3000);
    std::vector<std::size_t> pieces;
    for (std::size_t total = 0; total < wire.size();) {
      std::size_t n = std::min(size(random), wire.size() - total);
      pieces.push_back(n);
      total += n;
    }
    outcome o = feed_pieces(wire, pieces);
    ASSERT_EQ(o.events, mixed_events()) << "seed " << seed;
    ASSERT_EQ(o.used, wire.size()) << "seed " << seed;
  }
}

// --- framing errors: 1002 --------------------------------------------------------------------

TEST(WsReader, ReservedBitsAreAProtocolError) {
  for (std::uint8_t rsv : {0x40, 0x20, 0x10, 0x70}) {
    outcome o = feed_whole(client_frame(text_fin | rsv, "x"));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{rsv};
    EXPECT_TRUE(o.events.empty());
    o = feed_whole(client_frame(text_more, "a") + client_frame(cont_fin | rsv, "b"));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{rsv};
    EXPECT_TRUE(o.events.empty());
    o = feed_whole(client_frame(ping_fin | rsv, ""));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{rsv};
  }
}

TEST(WsReader, ReservedOpcodesAreAProtocolError) {
  for (std::uint8_t op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    outcome o = feed_whole(client_frame(0x80 | op, "x"));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{op};
    EXPECT_TRUE(o.events.empty());
    EXPECT_EQ(o.used, 0u);
  }
}

TEST(WsReader, UnmaskedFramesAreAProtocolError) {
  for (std::uint8_t first : {text_fin, binary_fin, ping_fin, pong_fin, close_fin}) {
    std::string wire = bytes({first, 0x00});
    outcome o = feed_whole(wire);
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{first};
    EXPECT_TRUE(o.events.empty());
  }
}

TEST(WsReader, FragmentedControlFrameIsAProtocolError) {
  for (std::uint8_t op : {0x8, 0x9, 0xA}) {
    outcome o = feed_whole(client_frame(op, ""));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{op};
    EXPECT_TRUE(o.events.empty());
  }
}

TEST(WsReader, ControlFrameOver125BytesIsAProtocolError) {
  for (std::uint8_t first : {ping_fin, pong_fin}) {
    outcome o = feed_whole(client_frame(first, std::string(125, 'a')));
    EXPECT_EQ(o.failure, std::nullopt);
    EXPECT_EQ(o.events.size(), 1u);
    o = feed_whole(client_frame(first, std::string(126, 'a')));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{first};
    EXPECT_TRUE(o.events.empty());
  }
  outcome o = feed_whole(client_frame(close_fin, close_payload(1000, std::string(124, 'r'))));
  EXPECT_EQ(o.failure, close_code::protocol_error);
  EXPECT_TRUE(o.events.empty());
  // Even before the payload arrives.
  std::string wire = client_frame(ping_fin, std::string(200, 'a'));
  o = feed_whole(wire.substr(0, 8));
  EXPECT_EQ(o.failure, close_code::protocol_error);
}

TEST(WsReader, ContinuationWithoutAMessageIsAProtocolError) {
  for (std::uint8_t first : {cont_fin, cont_more}) {
    outcome o = feed_whole(client_frame(first, "x"));
    EXPECT_EQ(o.failure, close_code::protocol_error) << int{first};
    EXPECT_TRUE(o.events.empty());
  }
  outcome o = feed_whole(client_frame(text_fin, "done") + client_frame(cont_fin, "more"));
  EXPECT_EQ(o.events, std::vector<event>{text("done")});
  EXPECT_EQ(o.failure, close_code::protocol_error);
}

TEST(WsReader, NewMessageInsideAFragmentedOneIsAProtocolError) {
  for (std::uint8_t inner : {text_fin, text_more, binary_fin, binary_more}) {
    for (std::uint8_t outer : {text_more, binary_more}) {
      outcome o = feed_whole(client_frame(outer, "a") + client_frame(inner, "b") +
                             client_frame(cont_fin, "c"));
      EXPECT_EQ(o.failure, close_code::protocol_error) << int{outer} << " " << int{inner};
      EXPECT_TRUE(o.events.empty());
    }
  }
}

TEST(WsReader, FramesBeforeAViolationAreDeliveredAndNoneAfter) {
  std::string good = client_frame(text_fin, "ok") + client_frame(ping_fin, "x");
  std::string wire = good + bytes({0x83, 0x80, 0, 0, 0, 0}) + client_frame(text_fin, "never");
  outcome o = feed_whole(wire);
  EXPECT_EQ(o.events, (std::vector<event>{text("ok"), ping("x")}));
  EXPECT_EQ(o.failure, close_code::protocol_error);
  EXPECT_EQ(o.used, good.size());
}

TEST(WsReader, StoppedReaderReadsNothingMore) {
  ws_reader reader(default_limits);
  recorder r;
  std::string bad = client_frame(0x83, "x");
  EXPECT_EQ(reader.consume(bad.data(), bad.size(), r), 0u);
  ASSERT_TRUE(reader.stopped());
  std::string good = client_frame(text_fin, "later");
  EXPECT_EQ(reader.consume(good.data(), good.size(), r), 0u);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(reader.failure(), close_code::protocol_error);
  EXPECT_FALSE(reader.closed());
}

// --- close frames ----------------------------------------------------------------------------

TEST(WsReader, CloseWithoutPayloadReportsNoStatus) {
  outcome o = feed_whole(client_frame(close_fin, ""));
  EXPECT_EQ(o.events, std::vector<event>{close_event(1005, "")});
  EXPECT_TRUE(o.closed);
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, OneByteClosePayloadIsAProtocolError) {
  for (int b : {0x03, 0xE8, 0x00}) {
    outcome o = feed_whole(client_frame(close_fin, bytes({b})));
    EXPECT_EQ(o.failure, close_code::protocol_error);
    EXPECT_TRUE(o.events.empty());
    EXPECT_FALSE(o.closed);
  }
}

TEST(WsReader, ValidCloseCodesAreReported) {
  for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                             3000, 3999, 4000, 4008, 4999}) {
    outcome o = feed_whole(client_frame(close_fin, close_payload(code, "why")));
    EXPECT_EQ(o.events, std::vector<event>{close_event(code, "why")}) << code;
    EXPECT_EQ(o.failure, std::nullopt) << code;
  }
}

TEST(WsReader, InvalidCloseCodesAreAProtocolError) {
  for (std::uint16_t code :
       {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    outcome o = feed_whole(client_frame(close_fin, close_payload(code)));
    EXPECT_EQ(o.failure, close_code::protocol_error) << code;
    EXPECT_TRUE(o.events.empty()) << code;
    EXPECT_FALSE(o.closed);
  }
}

TEST(WsReader, PeerCloseCodeTable) {
  for (std::uint32_t code = 0; code <= 65535; ++code) {
    bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                 (code >= 3000 && code <= 4999);
    ASSERT_EQ(is_valid_peer_close_code(static_cast<std::uint16_t>(code)), valid) << code;
  }
}

TEST(WsReader, CloseReasonMustBeUtf8) {
  outcome o = feed_whole(client_frame(close_fin, close_payload(1000, "caf\xC3\xA9")));
  EXPECT_EQ(o.events, std::vector<event>{close_event(1000, "caf\xC3\xA9")});
  for (std::string reason :
       {bytes({0xFF}), bytes({'a', 0xC3}), bytes({0xC0, 0xAF}), bytes({0xED, 0xA0, 0x80})}) {
    o = feed_whole(client_frame(close_fin, close_payload(1000, reason)));
    EXPECT_EQ(o.failure, close_code::invalid_payload);
    EXPECT_TRUE(o.events.empty());
    EXPECT_FALSE(o.closed);
  }
}

TEST(WsReader, NothingIsReadAfterTheCloseFrame) {
  std::string close = client_frame(close_fin, close_payload(1000));
  std::string wire = client_frame(text_fin, "before") + close + client_frame(text_fin, "after");
  ws_reader reader(default_limits);
  recorder r;
  std::size_t used = reader.consume(wire.data(), wire.size(), r);
  EXPECT_EQ(used, wire.size() - client_frame(text_fin, "after").size());
  EXPECT_EQ(r.events, (std::vector<event>{text("before"), close_event(1000, "")}));
  EXPECT_TRUE(reader.closed());
  EXPECT_TRUE(reader.stopped());
  EXPECT_EQ(reader.consume(wire.data() + used, wire.size() - used, r), 0u);
  EXPECT_EQ(r.events.size(), 2u);
}

TEST(WsReader, CloseInsideAFragmentedMessage) {
  outcome o = feed_whole(client_frame(text_more, "part") +
                         client_frame(close_fin, close_payload(1001, "gone")) +
                         client_frame(cont_fin, "rest"));
  EXPECT_EQ(o.events, std::vector<event>{close_event(1001, "gone")});
  EXPECT_TRUE(o.closed);
}

// --- UTF-8: 1007 -----------------------------------------------------------------------------

TEST(WsReader, InvalidUtf8TextIsInvalidPayload) {
  for (std::string bad :
       {bytes({0xFF}), bytes({0x80}), bytes({'a', 0xC3}), bytes({0xC0, 0x80}),  // overlong NUL
        bytes({0xE0, 0x80, 0xAF}),                                              // overlong '/'
        bytes({0xF0, 0x80, 0x80, 0xAF}),                                        // overlong '/'
        bytes({0xED, 0xA0, 0x80}),                                              // U+D800
        bytes({0xED, 0xBF, 0xBF}),                                              // U+DFFF
        bytes({0xF4, 0x90, 0x80, 0x80}),                                        // past U+10FFFF
        bytes({0xE2, 0x82})}) {  // cut inside a character
    outcome o = feed_whole(client_frame(text_fin, bad));
    EXPECT_EQ(o.failure, close_code::invalid_payload) << hex(bad);
    EXPECT_TRUE(o.events.empty());
  }
}

TEST(WsReader, BinaryIsNotCheckedForUtf8) {
  std::string raw = bytes({0xFF, 0xC0, 0x80, 0xED, 0xA0, 0x80});
  outcome o = feed_whole(client_frame(binary_fin, raw));
  EXPECT_EQ(o.events, std::vector<event>{binary(raw)});
  o = feed_whole(client_frame(binary_more, raw.substr(0, 1)) +
                 client_frame(cont_fin, raw.substr(1)));
  EXPECT_EQ(o.events, std::vector<event>{binary(raw)});
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, TextSplitInsideACharacterAcrossFragments) {
  const std::string message =
      "a\xF0\x9F\x98\x80\xC3\xA9\xE2\x82\xAC"
      "b";  // a😀é€b
  for (std::size_t cut = 0; cut <= message.size(); ++cut) {
    for (std::size_t cut2 = cut; cut2 <= message.size(); ++cut2) {
      std::string wire = client_frame(text_more, message.substr(0, cut)) +
                         client_frame(cont_more, message.substr(cut, cut2 - cut)) +
                         client_frame(ping_fin, "") + client_frame(cont_fin, message.substr(cut2));
      outcome o = feed_whole(wire);
      ASSERT_EQ(o.events, (std::vector<event>{ping(""), text(message)})) << cut << " " << cut2;
      ASSERT_EQ(o.failure, std::nullopt);
    }
  }
}

// A bad fragment fails the connection when it arrives, before the message is finished.
TEST(WsReader, InvalidUtf8FailsAtTheFragmentThatHasIt) {
  struct split {
    std::string first, second;
  };
  for (const split& s : {split{"ok", bytes({0xFF})}, split{bytes({0xED}), bytes({0xA0, 0x80})},
                         split{bytes({0xE0}), bytes({0x80, 0x80})},
                         split{bytes({0xF4}), bytes({0x90})}, split{"a", bytes({0xC1, 0xBF})}}) {
    ws_reader reader(default_limits);
    recorder r;
    std::string wire = client_frame(text_more, s.first);
    ASSERT_EQ(reader.consume(wire.data(), wire.size(), r), wire.size());
    ASSERT_FALSE(reader.stopped());
    wire = client_frame(cont_more, s.second);  // not the final fragment
    reader.consume(wire.data(), wire.size(), r);
    EXPECT_EQ(reader.failure(), close_code::invalid_payload);
    EXPECT_TRUE(r.events.empty());
  }
  outcome o = feed_whole(client_frame(text_more, bytes({'a', 0xC0})));
  EXPECT_EQ(o.failure, close_code::invalid_payload);
}

TEST(WsReader, FragmentedTextEndingInsideACharacterIsInvalidPayload) {
  outcome o =
      feed_whole(client_frame(text_more, bytes({'a', 0xE2, 0x82})) + client_frame(cont_fin, ""));
  EXPECT_EQ(o.failure, close_code::invalid_payload);
  EXPECT_TRUE(o.events.empty());
  o = feed_whole(client_frame(text_more, "a") + client_frame(cont_fin, bytes({0xF0, 0x9F})));
  EXPECT_EQ(o.failure, close_code::invalid_payload);
}

// A message after a failed UTF-8 check never leaks state: each new reader starts clean, and
// within one reader a complete fragmented text resets the check for the next one.
TEST(WsReader, Utf8StateDoesNotCarryIntoTheNextMessage) {
  outcome o = feed_whole(client_frame(text_more, "\xC3") + client_frame(cont_fin, "\xA9") +
                         client_frame(text_more, "x") + client_frame(cont_fin, "y"));
  EXPECT_EQ(o.events, (std::vector<event>{text("\xC3\xA9"), text("xy")}));
  EXPECT_EQ(o.failure, std::nullopt);
}

// --- limits ----------------------------------------------------------------------------------

TEST(WsReader, TextOverMaxTextBytesIsReportedBySize) {
  constexpr ws_reader_limits limits{10, 100, 16};
  outcome o =
      feed_whole(client_frame(text_fin, std::string(10, 'a')) +
                     client_frame(text_fin, std::string(11, 'b')) + client_frame(text_fin, "after"),
                 limits);
  EXPECT_EQ(o.events,
            (std::vector<event>{text(std::string(10, 'a')), too_large(11), text("after")}));
  EXPECT_EQ(o.failure, std::nullopt);  // the connection stays open
}

TEST(WsReader, FragmentedTextOverMaxTextBytesIsReportedWhenWhole) {
  constexpr ws_reader_limits limits{10, 100, 16};
  outcome o =
      feed_whole(client_frame(text_more, std::string(6, 'a')) +
                     client_frame(cont_more, std::string(6, 'b')) + client_frame(ping_fin, "") +
                     client_frame(cont_fin, std::string(6, 'c')) + client_frame(text_fin, "next"),
                 limits);
  EXPECT_EQ(o.events, (std::vector<event>{ping(""), too_large(18), text("next")}));
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, BinaryIsNotBoundByMaxTextBytes) {
  constexpr ws_reader_limits limits{10, 100, 16};
  outcome o = feed_whole(client_frame(binary_fin, std::string(100, 'z')), limits);
  EXPECT_EQ(o.events, std::vector<event>{binary(std::string(100, 'z'))});
}

TEST(WsReader, MessageOverMaxMessageBytesIsRefusedBeforeItIsRead) {
  constexpr ws_reader_limits limits{10, 100, 16};
  for (std::uint8_t first : {text_fin, binary_fin, text_more, binary_more}) {
    outcome o = feed_whole(client_frame(first, std::string(100, 'z')), limits);
    EXPECT_EQ(o.failure, std::nullopt);
    std::string wire = client_frame(first, std::string(101, 'z'));
    o = feed_whole(wire.substr(0, 6), limits);  // the header only
    EXPECT_EQ(o.failure, close_code::too_big) << int{first};
    EXPECT_TRUE(o.events.empty());
    EXPECT_EQ(o.used, 0u);
  }
}

TEST(WsReader, HugeLengthIsRefusedFromTheHeaderAlone) {
  // 2^40 bytes announced; only the 14 header bytes ever arrive.
  std::string header = bytes({0x82, 0xFF, 0, 0, 0, 0x01, 0, 0, 0, 0, 1, 2, 3, 4});
  outcome o = feed_whole(header);
  EXPECT_EQ(o.failure, close_code::too_big);
  EXPECT_EQ(o.used, 0u);
}

TEST(WsReader, FragmentsCountTowardsMaxMessageBytes) {
  constexpr ws_reader_limits limits{1000, 100, 16};
  outcome o = feed_whole(client_frame(binary_more, std::string(60, 'a')) +
                             client_frame(cont_fin, std::string(40, 'b')),
                         limits);
  EXPECT_EQ(o.events, std::vector<event>{binary(std::string(60, 'a') + std::string(40, 'b'))});

  std::string last = client_frame(cont_fin, std::string(41, 'b'));
  o = feed_whole(client_frame(binary_more, std::string(60, 'a')) + last.substr(0, 6), limits);
  EXPECT_EQ(o.failure, close_code::too_big);
  EXPECT_TRUE(o.events.empty());
}

// Control frames are not part of the message they interrupt: a ping in the middle of a message
// close to the limit is answered, not counted.
TEST(WsReader, ControlFramesDoNotCountTowardsTheMessageLimit) {
  constexpr ws_reader_limits limits{1000, 100, 16};
  outcome o = feed_whole(client_frame(binary_more, std::string(98, 'a')) +
                             client_frame(ping_fin, "12345") + client_frame(pong_fin, "xyz") +
                             client_frame(close_fin, close_payload(1000, "bye")),
                         limits);
  EXPECT_EQ(o.events, (std::vector<event>{ping("12345"), pong(), close_event(1000, "bye")}));
  EXPECT_EQ(o.failure, std::nullopt);

  o = feed_whole(client_frame(text_more, std::string(100, 'a')) + client_frame(ping_fin, "p") +
                     client_frame(cont_fin, ""),
                 limits);
  EXPECT_EQ(o.events, (std::vector<event>{ping("p"), text(std::string(100, 'a'))}));
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, LimitAppliesAgainAfterAMessageCompletes) {
  constexpr ws_reader_limits limits{1000, 100, 16};
  outcome o = feed_whole(client_frame(binary_more, std::string(90, 'a')) +
                             client_frame(cont_fin, std::string(10, 'b')) +
                             client_frame(binary_more, std::string(90, 'c')) +
                             client_frame(cont_fin, std::string(10, 'd')),
                         limits);
  EXPECT_EQ(o.events.size(), 2u);
  EXPECT_EQ(o.failure, std::nullopt);
}

// A message may come in at most max_fragments frames; the header of the one past it fails the
// connection with 1009 before its payload is read, so endless empty fragments cannot go on.
TEST(WsReader, FrameOverMaxFragmentsIsRefusedFromItsHeader) {
  constexpr ws_reader_limits limits{1000, 100, 3};
  std::string three =
      client_frame(text_more, "a") + client_frame(cont_more, "") + client_frame(cont_fin, "b");
  outcome o = feed_whole(three, limits);
  EXPECT_EQ(o.events, std::vector<event>{text("ab")});
  EXPECT_EQ(o.failure, std::nullopt);

  std::string started =
      client_frame(binary_more, "x") + client_frame(cont_more, "") + client_frame(cont_more, "");
  std::string fourth = client_frame(cont_fin, "y");
  o = feed_whole(started + fourth.substr(0, 6), limits);  // the fourth frame's header only
  EXPECT_EQ(o.failure, close_code::too_big);
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(o.used, started.size());
  EXPECT_EQ(feed_byte_by_byte(started + fourth, limits).failure, close_code::too_big);
}

TEST(WsReader, ControlFramesDoNotCountAsFragments) {
  constexpr ws_reader_limits limits{1000, 100, 2};
  outcome o = feed_whole(client_frame(text_more, "a") + client_frame(ping_fin, "1") +
                             client_frame(pong_fin, "") + client_frame(ping_fin, "2") +
                             client_frame(cont_fin, "b"),
                         limits);
  EXPECT_EQ(o.events, (std::vector<event>{ping("1"), pong(), ping("2"), text("ab")}));
  EXPECT_EQ(o.failure, std::nullopt);
}

TEST(WsReader, FragmentCountStartsOverWithEachMessage) {
  constexpr ws_reader_limits limits{1000, 100, 2};
  std::string wire;
  for (char c : std::string("xyz"))
    wire += client_frame(binary_more, std::string(1, c)) + client_frame(cont_fin, "!");
  wire += client_frame(text_fin, "one frame");
  outcome o = feed_whole(wire, limits);
  EXPECT_EQ(o.events,
            (std::vector<event>{binary("x!"), binary("y!"), binary("z!"), text("one frame")}));
  EXPECT_EQ(o.failure, std::nullopt);
  // After a message of max_fragments frames, a continuation has nothing to continue: 1002.
  o = feed_whole(
      client_frame(text_more, "a") + client_frame(cont_fin, "b") + client_frame(cont_fin, "c"),
      limits);
  EXPECT_EQ(o.events, std::vector<event>{text("ab")});
  EXPECT_EQ(o.failure, close_code::protocol_error);
}

// --- unmask ----------------------------------------------------------------------------------

TEST(WsReader, UnmaskMatchesBytewiseXorAtEveryLength) {
  const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string data = payload_of(n);
    std::string expected = data;
    for (std::size_t i = 0; i < n; ++i)
      expected[i] = static_cast<char>(expected[i] ^ mask[i % 4]);
    std::string guard = data + "GUARD";
    unmask(guard.data(), n, mask);
    EXPECT_EQ(guard.substr(0, n), expected) << n;
    EXPECT_EQ(guard.substr(n), "GUARD") << n;  // no byte past `size` is touched
    unmask(guard.data(), n, mask);
    EXPECT_EQ(guard.substr(0, n), data) << n;
  }
}

TEST(WsReader, UnmaskRfcHello) {
  std::string data = bytes({0x7f, 0x9f, 0x4d, 0x51, 0x58});
  const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  unmask(data.data(), data.size(), mask);
  EXPECT_EQ(data, "Hello");
}

}  // namespace
}  // namespace parley::protocol

#include "parley/protocol/ws_frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "parley/protocol/utf8_validator.hpp"
#include "support/frames.hpp"

namespace parley::protocol {
namespace {

using test::bytes;

std::string payload_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(i * 7 + 3);
  return s;
}

// RFC 6455 section 5.7: a single-frame unmasked text message.
TEST(WsFrame, RfcUnmaskedHello) {
  shared_frame f = make_frame_copy(opcode::text, "Hello");
  EXPECT_EQ(f->bytes(), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(f->size(), 7u);
}

// RFC 6455 section 5.7: 256 bytes binary in a single unmasked frame.
TEST(WsFrame, RfcBinary256UsesSixteenBitLength) {
  std::string payload = payload_of(256);
  shared_frame f = make_frame_copy(opcode::binary, payload);
  EXPECT_EQ(f->bytes().substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(f->bytes().substr(4), payload);
  EXPECT_EQ(f->size(), 260u);
}

// RFC 6455 section 5.7: 64KiB binary in a single unmasked frame.
TEST(WsFrame, RfcBinary64KiBUsesSixtyFourBitLength) {
  std::string payload = payload_of(65536);
  shared_frame f = make_frame_copy(opcode::binary, payload);
  EXPECT_EQ(f->bytes().substr(0, 10),
            bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  EXPECT_EQ(f->bytes().substr(10), payload);
  EXPECT_EQ(f->size(), 65546u);
}

struct length_case {
  std::size_t length;
  std::string header;  // after the first byte
};

TEST(WsFrame, LengthFormsAtTheirEdges) {
  const length_case cases[] = {
      {0, bytes({0x00})},
      {1, bytes({0x01})},
      {125, bytes({0x7D})},
      {126, bytes({0x7E, 0x00, 0x7E})},
      {127, bytes({0x7E, 0x00, 0x7F})},
      {65535, bytes({0x7E, 0xFF, 0xFF})},
      {65536, bytes({0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00})},
      {65537, bytes({0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01})},
      {(1u << 24) + 5, bytes({0x7F, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x05})},
  };
  for (const auto& c : cases) {
    std::string payload = payload_of(c.length);
    shared_frame f = make_frame_copy(opcode::text, payload);
    std::string_view wire = f->bytes();
    ASSERT_EQ(wire.size(), 1 + c.header.size() + c.length) << c.length;
    EXPECT_EQ(static_cast<unsigned char>(wire[0]), 0x81) << c.length;
    EXPECT_EQ(wire.substr(1, c.header.size()), c.header) << c.length;
    EXPECT_TRUE(wire.substr(1 + c.header.size()) == payload) << c.length;
    EXPECT_EQ(f->size(), wire.size());
  }
}

TEST(WsFrame, EveryOpcodeIsFinalAndUnmasked) {
  const std::pair<opcode, int> ops[] = {{opcode::text, 0x81},
                                        {opcode::binary, 0x82},
                                        {opcode::close, 0x88},
                                        {opcode::ping, 0x89},
                                        {opcode::pong, 0x8A}};
  for (auto [op, first] : ops) {
    shared_frame f = make_frame_copy(op, "abc");
    EXPECT_EQ(f->bytes(), bytes({first, 0x03, 'a', 'b', 'c'}));
  }
}

TEST(WsFrame, GatheredPartsMakeTheSameFrameAsOneCopy) {
  for (std::size_t n : {0u, 125u, 126u, 65535u, 65536u}) {
    std::string payload = payload_of(n);
    std::string_view whole = payload;
    std::size_t half = n / 2;
    shared_frame gathered =
        frame::make(opcode::binary, {whole.substr(0, half), {}, whole.substr(half)});
    shared_frame copied = make_frame_copy(opcode::binary, payload);
    EXPECT_TRUE(gathered->bytes() == copied->bytes()) << n;
    test::decoded_frame d = test::decode_server_frame(gathered);
    EXPECT_EQ(d.first_byte, 0x82);
    EXPECT_TRUE(d.payload == payload) << n;
  }
}

// A frame is shared by every recipient and freed with the last reference, on any thread. The
// sanitized runs of the test command are what catch a wrong count (a leak, or a use after free).
TEST(WsFrame, SharedAcrossThreadsAndFreedOnce) {
  shared_frame f = make_frame_copy(opcode::text, "shared");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = f] {
      for (int i = 0; i < 10000; ++i) {
        shared_frame more = copy;
        EXPECT_EQ(more->size(), 8u);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(f->bytes(), bytes({0x81, 0x06, 's', 'h', 'a', 'r', 'e', 'd'}));
}

TEST(WsFrame, CloseFrameCarriesCodeAndReason) {
  EXPECT_EQ(make_close_frame(close_code::normal, "bye")->bytes(),
            bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
  EXPECT_EQ(make_close_frame(close_code::too_slow, "")->bytes(), bytes({0x88, 0x02, 0x0F, 0xA8}));
  EXPECT_EQ(make_close_frame(close_code::too_big, "")->bytes(), bytes({0x88, 0x02, 0x03, 0xF1}));
  EXPECT_EQ(make_close_frame(close_code::ping_timeout, "")->bytes(),
            bytes({0x88, 0x02, 0x0F, 0xA0}));
}

TEST(WsFrame, CloseCodesHaveTheirDocumentedValues) {
  EXPECT_EQ(static_cast<int>(close_code::normal), 1000);
  EXPECT_EQ(static_cast<int>(close_code::going_away), 1001);
  EXPECT_EQ(static_cast<int>(close_code::protocol_error), 1002);
  EXPECT_EQ(static_cast<int>(close_code::invalid_payload), 1007);
  EXPECT_EQ(static_cast<int>(close_code::policy_violation), 1008);
  EXPECT_EQ(static_cast<int>(close_code::too_big), 1009);
  EXPECT_EQ(static_cast<int>(close_code::internal_error), 1011);
  EXPECT_EQ(static_cast<int>(close_code::too_slow), 4008);
}

// A control frame carries at most 125 bytes: 2 for the code, 123 of reason.
TEST(WsFrame, CloseReasonIsCutToFitAControlFrame) {
  std::string reason(200, 'r');
  test::decoded_frame d =
      test::decode_server_frame(make_close_frame(close_code::going_away, reason));
  EXPECT_EQ(d.first_byte, 0x88);
  EXPECT_EQ(d.payload, bytes({0x03, 0xE9}) + std::string(123, 'r'));

  std::string exact(123, 'x');
  d = test::decode_server_frame(make_close_frame(close_code::going_away, exact));
  EXPECT_EQ(d.payload, bytes({0x03, 0xE9}) + exact);
}

// RFC 6455 section 5.5.1: the reason is UTF-8, so cutting it must not split a character.
TEST(WsFrame, CloseReasonIsCutAtACharacterBoundary) {
  for (std::size_t pad = 0; pad < 4; ++pad) {
    std::string reason = std::string(pad, 'a');
    while (reason.size() < 200)
      reason += "\xF0\x9F\x98\x80";  // 😀, 4 bytes
    test::decoded_frame d = test::decode_server_frame(make_close_frame(close_code::normal, reason));
    ASSERT_GE(d.payload.size(), 2u);
    std::string kept = d.payload.substr(2);
    EXPECT_LE(kept.size(), 123u) << pad;
    EXPECT_GT(kept.size(), 119u) << pad;  // only the split character is dropped
    EXPECT_TRUE(utf8_validator::is_valid(kept)) << pad;
    EXPECT_EQ(kept, reason.substr(0, kept.size())) << pad;
  }
}

}  // namespace
}  // namespace parley::protocol

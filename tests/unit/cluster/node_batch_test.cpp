// A batch between nodes (src/cluster/node_batch.hpp): every record kind written and read back
// as it was, in order, byte for byte (binary ids and payloads included); anything malformed
// refused, whatever was read before the fault kept.
#include "node_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parley/protocol/ws_frame.hpp"

namespace parley::cluster {
namespace {

// A record read back, with its views copied (they point into the batch's bytes).
struct read_back {
  record_kind kind;
  std::string from, to;
  protocol::opcode op;
  std::string payload;
  std::vector<std::string> ids;
};

struct batch_read {
  bool whole = false;
  std::string origin;
  std::vector<read_back> records;
};

batch_read read(std::string_view bytes) {
  batch_read out;
  std::string_view origin;
  out.whole = read_batch(bytes, origin, [&](const record& r) {
    out.records.push_back({r.kind,
                           std::string(r.from),
                           std::string(r.to),
                           r.op,
                           std::string(r.payload),
                           {r.ids.begin(), r.ids.end()}});
  });
  out.origin = std::string(origin);
  return out;
}

TEST(NodeBatch, EveryRecordKindComesBackInOrder) {
  batch_writer w("node-1");
  EXPECT_TRUE(w.empty());
  std::string binary_payload("\x00\x01\xff{\"to\":\"b\"}\x00", 14);
  w.message(core::remote_delivery::message, "alice", "bob",
            *protocol::make_frame_copy(protocol::opcode::text, R"({"type":"msg"})"));
  w.message(core::remote_delivery::notify, "carol", "dave",
            *protocol::make_frame_copy(protocol::opcode::binary, binary_payload));
  w.presence("erin", true);
  w.presence("frank", false);
  std::string_view hello_ids[] = {"a", "b.c", "d-e_f"};
  w.ids(record_kind::hello, hello_ids);
  w.ids(record_kind::state, {});
  w.gone();
  EXPECT_FALSE(w.empty());

  std::string bytes = w.take();
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  auto got = read(bytes);
  ASSERT_TRUE(got.whole);
  EXPECT_EQ(got.origin, "node-1");
  ASSERT_EQ(got.records.size(), 7u);

  const auto& m = got.records[0];
  EXPECT_EQ(m.kind, record_kind::message);
  EXPECT_EQ(m.from, "alice");
  EXPECT_EQ(m.to, "bob");
  EXPECT_EQ(m.op, protocol::opcode::text);
  EXPECT_EQ(m.payload, R"({"type":"msg"})");

  const auto& n = got.records[1];
  EXPECT_EQ(n.kind, record_kind::notify);
  EXPECT_EQ(n.from, "carol");
  EXPECT_EQ(n.to, "dave");
  EXPECT_EQ(n.op, protocol::opcode::binary);
  EXPECT_EQ(n.payload, binary_payload);  // byte for byte, NULs included

  EXPECT_EQ(got.records[2].kind, record_kind::online);
  EXPECT_EQ(got.records[2].to, "erin");
  EXPECT_EQ(got.records[3].kind, record_kind::offline);
  EXPECT_EQ(got.records[3].to, "frank");
  EXPECT_EQ(got.records[4].kind, record_kind::hello);
  EXPECT_EQ(got.records[4].ids, (std::vector<std::string>{"a", "b.c", "d-e_f"}));
  EXPECT_EQ(got.records[5].kind, record_kind::state);
  EXPECT_TRUE(got.records[5].ids.empty());
  EXPECT_EQ(got.records[6].kind, record_kind::gone);
}

TEST(NodeBatch, TakeStartsAFreshBatchWithItsOwnHeader) {
  batch_writer w("n");
  w.presence("a", true);
  auto first = read(w.take());
  w.presence("b", false);
  auto second = read(w.take());
  ASSERT_TRUE(first.whole && second.whole);
  ASSERT_EQ(second.records.size(), 1u);
  EXPECT_EQ(second.origin, "n");
  EXPECT_EQ(second.records[0].to, "b");
}

TEST(NodeBatch, ALargePayloadAndManyIdsRoundTrip) {
  batch_writer w("n");
  std::string big(1 << 20, 'x');
  big[12345] = '\0';
  w.message(core::remote_delivery::message, "a", "b",
            *protocol::make_frame_copy(protocol::opcode::binary, big));
  std::vector<std::string> ids;
  for (int i = 0; i < 5000; ++i)
    ids.push_back("id" + std::to_string(i));
  std::vector<std::string_view> views(ids.begin(), ids.end());
  w.ids(record_kind::state, views);
  auto got = read(w.take());
  ASSERT_TRUE(got.whole);
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.records[0].payload, big);
  EXPECT_EQ(got.records[1].ids, ids);
}

// A batch with one presence record for id "a" from origin "n": "PB1" 0001 'n' '+' 0001 'a'.
std::string small_batch() {
  batch_writer w("n");
  w.presence("a", true);
  return w.take();
}

TEST(NodeBatch, AMalformedHeaderIsRefused) {
  EXPECT_FALSE(read("").whole);
  EXPECT_FALSE(read("PB").whole);
  EXPECT_FALSE(read(std::string("XB1\x00\x01n", 6)).whole);    // not the magic
  EXPECT_FALSE(read(std::string("PB1\x00\x00", 5)).whole);     // an empty origin
  EXPECT_FALSE(read(std::string("PB1\x00\x05nod", 8)).whole);  // origin past the end
  EXPECT_TRUE(read(std::string("PB1\x00\x01n", 6)).whole);     // no records: well formed
  EXPECT_TRUE(read(std::string("PB1\x00\x01n", 6)).records.empty());
}

TEST(NodeBatch, EveryTruncationOfAWellFormedBatchIsRefusedOrEndsAtARecord) {
  batch_writer w("node");
  w.message(core::remote_delivery::message, "alice", "bob",
            *protocol::make_frame_copy(protocol::opcode::text, "hello"));
  std::string_view ids[] = {"x", "y"};
  w.ids(record_kind::hello, ids);
  w.presence("z", false);
  std::string bytes = w.take();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    auto got = read(std::string_view(bytes).substr(0, cut));
    // The only whole prefixes are the header alone and the ends of records.
    EXPECT_FALSE(got.whole && got.records.size() == 3) << "cut at " << cut;
    if (got.whole) {
      for (const auto& r : got.records)
        EXPECT_NE(r.kind, record_kind::offline) << "cut at " << cut;  // the last is never whole
    }
  }
  EXPECT_TRUE(read(bytes).whole);
}

TEST(NodeBatch, AnUnknownRecordKindIsRefusedAfterWhatCameBefore) {
  std::string bytes = small_batch() + "?";
  auto got = read(bytes);
  EXPECT_FALSE(got.whole);
  ASSERT_EQ(got.records.size(), 1u);  // handed over before the fault: stays handed over
  EXPECT_EQ(got.records[0].to, "a");
}

TEST(NodeBatch, AMessageWithAnOpcodeOtherThanTextOrBinaryIsRefused) {
  batch_writer w("n");
  w.message(core::remote_delivery::message, "a", "b",
            *protocol::make_frame_copy(protocol::opcode::text, "hi"));
  std::string bytes = w.take();
  // "PB1" 0001 'n' | 'M' 0001 'a' 0001 'b' op ...: the opcode byte is at 6 + 1 + 3 + 3.
  std::size_t op_at = 6 + 1 + 3 + 3;
  ASSERT_EQ(static_cast<unsigned char>(bytes[op_at]),
            static_cast<unsigned>(protocol::opcode::text));
  for (unsigned char op : {0x0, 0x8, 0x9, 0xA, 0xFF}) {
    bytes[op_at] = static_cast<char>(op);
    EXPECT_FALSE(read(bytes).whole) << "opcode " << unsigned(op);
  }
}

TEST(NodeBatch, AnIdCountLargerThanTheBytesLeftIsRefusedWithoutAllocatingForIt) {
  // hello with a count of 0xFFFFFFFF and no ids after it.
  std::string bytes = std::string("PB1\x00\x01n", 6) + "H" + std::string("\xff\xff\xff\xff", 4);
  EXPECT_FALSE(read(bytes).whole);
}

TEST(NodeBatch, ALengthPastTheEndIsRefused) {
  // an online record whose id claims 200 bytes
  std::string bytes = std::string("PB1\x00\x01n", 6) + "+" + std::string("\x00\xc8", 2) + "abc";
  EXPECT_FALSE(read(bytes).whole);
  // a message whose payload claims 4 GiB
  std::string msg = std::string("PB1\x00\x01n", 6) + "M" + std::string("\x00\x01", 2) + "a" +
                    std::string("\x00\x01", 2) + "b" + std::string(1, '\x01') +
                    std::string("\xff\xff\xff\xff", 4) + "xyz";
  EXPECT_FALSE(read(msg).whole);
}

}  // namespace
}  // namespace parley::cluster

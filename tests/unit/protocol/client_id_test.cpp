#include "parley/protocol/client_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::protocol {
namespace {

// protocol.md: 1 to 64 bytes of [A-Za-z0-9_.-].
TEST(ClientId, AcceptsTheProtocolExamples) {
  EXPECT_TRUE(is_valid_client_id("1001"));
  EXPECT_TRUE(is_valid_client_id("6001"));
}

TEST(ClientId, AcceptsEveryAllowedCharacter) {
  EXPECT_TRUE(is_valid_client_id("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
  EXPECT_TRUE(is_valid_client_id("abcdefghijklmnopqrstuvwxyz"));
  EXPECT_TRUE(is_valid_client_id("0123456789"));
  EXPECT_TRUE(is_valid_client_id("_.-"));
  EXPECT_TRUE(is_valid_client_id("."));
  EXPECT_TRUE(is_valid_client_id(".."));
}

TEST(ClientId, RejectsEveryOtherByte) {
  const std::string allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
  for (int b = 0; b < 256; ++b) {
    char c = static_cast<char>(b);
    std::string id = "ab" + std::string(1, c) + "cd";
    EXPECT_EQ(is_valid_client_id(id), allowed.find(c) != std::string::npos) << "byte " << b;
    EXPECT_EQ(is_valid_client_id(std::string(1, c)), allowed.find(c) != std::string::npos)
        << "byte " << b;
  }
}

TEST(ClientId, LengthIsOneToSixtyFourBytes) {
  EXPECT_FALSE(is_valid_client_id(""));
  EXPECT_TRUE(is_valid_client_id("a"));
  EXPECT_TRUE(is_valid_client_id(std::string(63, 'x')));
  EXPECT_TRUE(is_valid_client_id(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_client_id(std::string(65, 'x')));
  EXPECT_EQ(max_client_id_bytes, 64u);
}

TEST(ClientId, RejectsNonAsciiLettersAndPathPieces) {
  EXPECT_FALSE(is_valid_client_id("caf\xC3\xA9"));  // "café"
  EXPECT_FALSE(is_valid_client_id("a/b"));
  EXPECT_FALSE(is_valid_client_id("1001/"));
  EXPECT_FALSE(is_valid_client_id("a b"));
  EXPECT_FALSE(is_valid_client_id("a%20b"));
  EXPECT_FALSE(is_valid_client_id("a?token=x"));
  EXPECT_FALSE(is_valid_client_id(std::string("a\0b", 3)));
}

TEST(ClientId, BadIdReasonIsPlainTextEndingInNewline) {
  ASSERT_FALSE(bad_client_id_reason.empty());
  EXPECT_EQ(bad_client_id_reason.back(), '\n');
  EXPECT_NE(bad_client_id_reason.find("64"), std::string_view::npos);
}

}  // namespace
}  // namespace parley::protocol

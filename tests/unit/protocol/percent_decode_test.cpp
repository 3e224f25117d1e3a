#include "parley/protocol/percent_decode.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parley::protocol {
namespace {

TEST(PercentDecode, PlainTextIsUnchanged) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("1001"), "1001");
  EXPECT_EQ(percent_decode("a.b-c_d"), "a.b-c_d");
}

TEST(PercentDecode, DecodesEscapesInEitherCase) {
  EXPECT_EQ(percent_decode("%41"), "A");
  EXPECT_EQ(percent_decode("%2e%2E"), "..");
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
  EXPECT_EQ(percent_decode("%31%30%30%31"), "1001");
  EXPECT_EQ(percent_decode("%c3%A9"), "\xC3\xA9");
  EXPECT_EQ(percent_decode("%ff%00"), std::string("\xFF\0", 2));
  EXPECT_EQ(percent_decode("x%20"), "x ");  // an escape ending the text
}

TEST(PercentDecode, EveryByteRoundTrips) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    std::string escaped = {'%', hex[b >> 4], hex[b & 0xF]};
    EXPECT_EQ(percent_decode(escaped), std::string(1, static_cast<char>(b))) << escaped;
  }
}

TEST(PercentDecode, PlusStaysPlus) {
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

TEST(PercentDecode, DecodesOnlyOnce) {
  EXPECT_EQ(percent_decode("%2541"), "%41");
}

TEST(PercentDecode, RejectsTruncatedEscapes) {
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("abc%"), std::nullopt);
  EXPECT_EQ(percent_decode("abc%4"), std::nullopt);
}

// The view ends inside the escape though hex digits follow it in memory: nothing past the end
// of the view may be read.
TEST(PercentDecode, ReadsNothingPastTheEndOfTheView) {
  constexpr std::string_view text = "a%41%4";
  EXPECT_EQ(percent_decode(text.substr(0, 3)), std::nullopt);
  EXPECT_EQ(percent_decode(text.substr(0, 2)), std::nullopt);
  EXPECT_EQ(percent_decode(text.substr(0, 4)), "aA");
  EXPECT_EQ(percent_decode(text.substr(4, 1)), std::nullopt);
}

TEST(PercentDecode, RejectsNonHexEscapes) {
  EXPECT_EQ(percent_decode("%G1"), std::nullopt);
  EXPECT_EQ(percent_decode("%1G"), std::nullopt);
  EXPECT_EQ(percent_decode("%%41"), std::nullopt);
  EXPECT_EQ(percent_decode("% 1"), std::nullopt);
  EXPECT_EQ(percent_decode("a%zzb"), std::nullopt);
}

}  // namespace
}  // namespace parley::protocol

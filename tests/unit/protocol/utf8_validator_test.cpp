#include "parley/protocol/utf8_validator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "support/frames.hpp"

namespace parley::protocol {
namespace {

using test::bytes;

// A textbook decoder to check the validator against (RFC 3629 section 3 and 4): the lead byte
// gives the length, every other byte is 10xxxxxx, and the code point is the shortest form,
// not a surrogate and at most U+10FFFF.
bool reference_is_valid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<std::uint8_t>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      auto c = static_cast<std::uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr std::uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < shortest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

TEST(Utf8Validator, AcceptsAsciiAndEmpty) {
  EXPECT_TRUE(utf8_validator::is_valid(""));
  EXPECT_TRUE(utf8_validator::is_valid("hello"));
  EXPECT_TRUE(utf8_validator::is_valid(std::string("\0\x7F", 2)));
}

TEST(Utf8Validator, AcceptsEachLengthAtItsBoundaries) {
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xC2, 0x80})));              // U+0080
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xDF, 0xBF})));              // U+07FF
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xE0, 0xA0, 0x80})));        // U+0800
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xED, 0x9F, 0xBF})));        // U+D7FF
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xEE, 0x80, 0x80})));        // U+E000
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xEF, 0xBF, 0xBF})));        // U+FFFF
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000
  EXPECT_TRUE(utf8_validator::is_valid(bytes({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF
  EXPECT_TRUE(utf8_validator::is_valid("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));  // κόσμε
}

TEST(Utf8Validator, RejectsOverlongForms) {
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xC0, 0x80})));  // U+0000 in 2 bytes
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xC0, 0xAF})));  // '/' in 2 bytes
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xC1, 0xBF})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xE0, 0x80, 0x80})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xE0, 0x80, 0xAF})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xE0, 0x9F, 0xBF})));  // U+07FF in 3 bytes
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF0, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in 4 bytes
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));
}

TEST(Utf8Validator, RejectsSurrogates) {
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xED, 0xA0, 0x80})));  // U+D800
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xED, 0xAD, 0xBF})));  // U+DB7F
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xED, 0xB0, 0x80})));  // U+DC00
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xED, 0xBF, 0xBF})));  // U+DFFF
  // A CESU-8 pair (U+1F600 as two encoded surrogates).
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST(Utf8Validator, RejectsPastU10FFFF) {
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF7, 0xBF, 0xBF, 0xBF})));
}

TEST(Utf8Validator, RejectsBytesThatNeverAppear) {
  for (int b : {0xC0, 0xC1, 0xF5, 0xF8, 0xFC, 0xFE, 0xFF}) {
    EXPECT_FALSE(utf8_validator::is_valid(bytes({b}))) << b;
    EXPECT_FALSE(utf8_validator::is_valid(bytes({'a', b, 'a'}))) << b;
  }
}

TEST(Utf8Validator, RejectsLoneAndMisplacedContinuationBytes) {
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0x80})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xBF})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({'a', 0x80, 'b'})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xC2, 0x80, 0x80})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xC2, 'A'})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xE2, 0x82, 'A'})));
  EXPECT_FALSE(utf8_validator::is_valid(bytes({0xF0, 0x9F, 0x98, 'A'})));
}

TEST(Utf8Validator, TruncatedCharacterIsIncompleteNotRejected) {
  for (std::string prefix : {bytes({0xC2}), bytes({0xE2}), bytes({0xE2, 0x82}), bytes({0xF0}),
                             bytes({0xF0, 0x9F}), bytes({0xF0, 0x9F, 0x98})}) {
    utf8_validator v;
    EXPECT_TRUE(v.feed("ok" + prefix));
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(utf8_validator::is_valid("ok" + prefix));
  }
}

// A text message split across fragments, even inside a character, is checked as it arrives.
TEST(Utf8Validator, CharacterSplitAcrossFeedsIsAccepted) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";  // a é € 😀 z
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    for (std::size_t cut2 = cut; cut2 <= text.size(); ++cut2) {
      utf8_validator v;
      EXPECT_TRUE(v.feed(text.substr(0, cut)));
      EXPECT_TRUE(v.feed(text.substr(cut, cut2 - cut)));
      EXPECT_TRUE(v.feed(text.substr(cut2)));
      EXPECT_TRUE(v.complete()) << cut << " " << cut2;
    }
  }
}

TEST(Utf8Validator, ByteByByteMatchesWholeBuffer) {
  const std::string text = "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5 \xF4\x8F\xBF\xBF";
  utf8_validator v;
  for (std::size_t i = 0; i < text.size(); ++i) {
    ASSERT_TRUE(v.feed(text.substr(i, 1))) << i;
    EXPECT_EQ(v.complete(), utf8_validator::is_valid(text.substr(0, i + 1))) << i;
  }
  EXPECT_TRUE(v.complete());
}

TEST(Utf8Validator, FailsAtTheFirstBadByteAndStaysFailed) {
  utf8_validator v;
  EXPECT_TRUE(v.feed(bytes({0xE0})));
  EXPECT_FALSE(v.feed(bytes({0x80})));  // overlong, known at its second byte
  EXPECT_FALSE(v.complete());
  EXPECT_FALSE(v.feed("plain ascii"));
  EXPECT_FALSE(v.feed(""));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed("fine"));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8Validator, SurrogateRejectedAtItsSecondByte) {
  utf8_validator v;
  EXPECT_TRUE(v.feed(bytes({0xED})));
  EXPECT_FALSE(v.feed(bytes({0xA0})));
}

TEST(Utf8Validator, ResetForgetsAnUnfinishedCharacter) {
  utf8_validator v;
  EXPECT_TRUE(v.feed(bytes({0xE2, 0x82})));
  v.reset();
  EXPECT_TRUE(v.complete());
  EXPECT_FALSE(v.feed(bytes({0xAC})));  // a lone continuation byte after the reset
}

// The eight-bytes-at-a-time ASCII path must not skip a bad byte or a character at any offset.
TEST(Utf8Validator, EveryOffsetInLongAsciiRuns) {
  for (std::size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    s[at] = '\x80';
    EXPECT_FALSE(utf8_validator::is_valid(s)) << at;
    s[at] = '\xFF';
    EXPECT_FALSE(utf8_validator::is_valid(s)) << at;

    std::string good(40, 'a');
    good.insert(at, "\xF0\x9F\x98\x80");
    EXPECT_TRUE(utf8_validator::is_valid(good)) << at;

    std::string cut(at, 'a');
    cut += "\xE2\x82";  // unfinished at the end
    EXPECT_FALSE(utf8_validator::is_valid(cut)) << at;

    std::string overlong(40, 'a');
    overlong.insert(at, "\xC0\xAF");
    EXPECT_FALSE(utf8_validator::is_valid(overlong)) << at;
  }
}

// Every sequence of one, two and three bytes, against the reference decoder.
TEST(Utf8Validator, AllShortSequencesMatchReference) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(utf8_validator::is_valid(s), reference_is_valid(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(utf8_validator::is_valid(s), reference_is_valid(s)) << a << " " << b;
      // Three-byte sequences matter only after a lead byte; the rest already failed or passed
      // on two bytes.
      if (a < 0xC0) continue;
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(utf8_validator::is_valid(s), reference_is_valid(s)) << a << " " << b << " " << c;
      }
    }
  }
}

// Four-byte sequences: every lead byte from F0 with every second byte, and the edges of the
// last two.
TEST(Utf8Validator, FourByteSequencesMatchReference) {
  const int tails[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  std::string s;
  for (int a = 0xF0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c : tails) {
        for (int d : tails) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          ASSERT_EQ(utf8_validator::is_valid(s), reference_is_valid(s))
              << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

}  // namespace
}  // namespace parley::protocol

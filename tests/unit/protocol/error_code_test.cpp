#include "parley/protocol/error_code.hpp"

#include <gtest/gtest.h>

namespace parley::protocol {
namespace {

// The wire codes of protocol.md's `error` frame.
TEST(ErrorCode, MapsToTheWireCodes) {
  EXPECT_EQ(to_string(error_code::bad_json), "bad_json");
  EXPECT_EQ(to_string(error_code::bad_request), "bad_request");
  EXPECT_EQ(to_string(error_code::unknown_type), "unknown_type");
  EXPECT_EQ(to_string(error_code::too_large), "too_large");
  EXPECT_EQ(to_string(error_code::rate_limited), "rate_limited");
  EXPECT_EQ(to_string(error_code::offline), "offline");
  EXPECT_EQ(to_string(error_code::forbidden), "forbidden");
}

}  // namespace
}  // namespace parley::protocol

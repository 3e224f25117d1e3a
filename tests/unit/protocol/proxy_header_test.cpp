// The PROXY protocol v2 header, with bytes laid out as HAProxy's proxy-protocol.txt (2.2) shows.
#include "parley/protocol/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace parley::protocol;

namespace {

const std::vector<std::uint8_t> signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                          0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// Signature, version/command, family/protocol, then the big-endian length of `rest`.
std::vector<std::uint8_t> header(std::uint8_t version_command, std::uint8_t family,
                                 const std::vector<std::uint8_t>& rest) {
  std::vector<std::uint8_t> bytes = signature;
  bytes.push_back(version_command);
  bytes.push_back(family);
  bytes.push_back(static_cast<std::uint8_t>(rest.size() >> 8));
  bytes.push_back(static_cast<std::uint8_t>(rest.size()));
  bytes.insert(bytes.end(), rest.begin(), rest.end());
  return bytes;
}

// 203.0.113.7:51000 -> 192.0.2.1:443
const std::vector<std::uint8_t> inet_addresses{203, 0, 113,  7,    192,  0,
                                               2,   1, 0xC7, 0x38, 0x01, 0xBB};

proxy_result parse(const std::vector<std::uint8_t>& bytes) {
  return parse_proxy_header(bytes);
}

proxy_error error_of(const proxy_result& result) {
  EXPECT_TRUE(std::holds_alternative<proxy_error>(result));
  return std::holds_alternative<proxy_error>(result) ? std::get<proxy_error>(result)
                                                     : proxy_error::bad_signature;
}

std::size_t rest_of(const std::vector<std::uint8_t>& bytes) {
  auto rest = proxy_rest_bytes(std::span<const std::uint8_t, proxy_fixed_bytes>(bytes.data(), 16));
  EXPECT_TRUE(std::holds_alternative<std::size_t>(rest));
  return std::holds_alternative<std::size_t>(rest) ? std::get<std::size_t>(rest) : 0;
}

}  // namespace

TEST(proxy_header, tcp_over_ipv4_carries_the_source_address_and_port) {
  auto bytes = header(0x21, 0x11, inet_addresses);
  EXPECT_EQ(rest_of(bytes), 12u);
  auto result = parse(bytes);
  ASSERT_TRUE(std::holds_alternative<proxy_source>(result));
  const auto& source = std::get<proxy_source>(result);
  EXPECT_FALSE(source.ipv6);
  EXPECT_EQ(source.address[0], 203);
  EXPECT_EQ(source.address[3], 7);
  EXPECT_EQ(source.port, 51000);
}

TEST(proxy_header, tcp_over_ipv6_carries_the_source_address_and_port) {
  std::vector<std::uint8_t> addresses(36, 0);
  addresses[0] = 0x20;  // 2001:db8::5
  addresses[1] = 0x01;
  addresses[2] = 0x0d;
  addresses[3] = 0xb8;
  addresses[15] = 0x05;
  addresses[32] = 0x30;  // port 12345
  addresses[33] = 0x39;
  auto result = parse(header(0x21, 0x21, addresses));
  ASSERT_TRUE(std::holds_alternative<proxy_source>(result));
  const auto& source = std::get<proxy_source>(result);
  EXPECT_TRUE(source.ipv6);
  EXPECT_EQ(source.address[0], 0x20);
  EXPECT_EQ(source.address[15], 0x05);
  EXPECT_EQ(source.port, 12345);
}

TEST(proxy_header, tlvs_after_the_addresses_are_skipped) {
  auto rest = inet_addresses;
  // PP2_TYPE_ALPN "h2", PP2_TYPE_UNIQUE_ID of 5 bytes
  std::vector<std::uint8_t> tlvs{0x01, 0x00, 0x02, 'h', '2', 0x05, 0x00, 0x05, 1, 2, 3, 4, 5};
  rest.insert(rest.end(), tlvs.begin(), tlvs.end());
  auto result = parse(header(0x21, 0x11, rest));
  ASSERT_TRUE(std::holds_alternative<proxy_source>(result));
  EXPECT_EQ(std::get<proxy_source>(result).port, 51000);
}

TEST(proxy_header, local_command_and_unspec_family_keep_the_peer) {
  EXPECT_TRUE(std::holds_alternative<keep_peer>(parse(header(0x20, 0x00, {}))));
  EXPECT_TRUE(std::holds_alternative<keep_peer>(parse(header(0x20, 0x11, inet_addresses))));
  EXPECT_TRUE(std::holds_alternative<keep_peer>(parse(header(0x21, 0x00, {}))));
}

TEST(proxy_header, a_wrong_signature_or_the_text_version_is_refused_from_16_bytes) {
  std::string v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n";
  std::vector<std::uint8_t> text(v1.begin(), v1.end());
  EXPECT_EQ(error_of(parse(text)), proxy_error::version_1);
  std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(error_of(parse({get.begin(), get.end()})), proxy_error::bad_signature);
  auto bytes = header(0x21, 0x11, inet_addresses);
  bytes[11] ^= 1;
  EXPECT_EQ(error_of(parse(bytes)), proxy_error::bad_signature);
  EXPECT_EQ(error_of(parse({0x0D, 0x0A})), proxy_error::bad_signature);
}

TEST(proxy_header, other_versions_commands_and_families_are_refused) {
  EXPECT_EQ(error_of(parse(header(0x11, 0x11, inet_addresses))), proxy_error::bad_version);
  EXPECT_EQ(error_of(parse(header(0x22, 0x11, inet_addresses))), proxy_error::bad_command);
  EXPECT_EQ(error_of(parse(header(0x21, 0x12, inet_addresses))),
            proxy_error::unsupported_family);  // UDP
  EXPECT_EQ(error_of(parse(header(0x21, 0x31, std::vector<std::uint8_t>(216, 0)))),
            proxy_error::unsupported_family);  // UNIX stream
  EXPECT_EQ(error_of(parse(header(0x21, 0x41, inet_addresses))), proxy_error::unsupported_family);
}

TEST(proxy_header, a_length_short_of_the_addresses_or_past_the_limit_is_refused) {
  std::vector<std::uint8_t> short_v4(inet_addresses.begin(), inet_addresses.begin() + 8);
  EXPECT_EQ(error_of(parse(header(0x21, 0x11, short_v4))), proxy_error::short_addresses);
  EXPECT_EQ(error_of(parse(header(0x21, 0x21, inet_addresses))), proxy_error::short_addresses);
  auto whole = header(0x21, 0x11, inet_addresses);
  whole.pop_back();  // fewer bytes than the length says
  EXPECT_EQ(error_of(parse(whole)), proxy_error::short_addresses);

  std::vector<std::uint8_t> largest(max_proxy_header_bytes - proxy_fixed_bytes, 0);
  std::copy(inet_addresses.begin(), inet_addresses.end(), largest.begin());
  EXPECT_TRUE(std::holds_alternative<proxy_source>(parse(header(0x21, 0x11, largest))));
  largest.push_back(0);
  auto too_long = header(0x21, 0x11, largest);
  auto rest =
      proxy_rest_bytes(std::span<const std::uint8_t, proxy_fixed_bytes>(too_long.data(), 16));
  ASSERT_TRUE(std::holds_alternative<proxy_error>(rest));
  EXPECT_EQ(std::get<proxy_error>(rest), proxy_error::too_long);
}

TEST(proxy_header, every_error_has_a_reason) {
  for (auto error : {proxy_error::bad_signature, proxy_error::version_1, proxy_error::bad_version,
                     proxy_error::bad_command, proxy_error::unsupported_family,
                     proxy_error::too_long, proxy_error::short_addresses}) {
    EXPECT_FALSE(to_string(error).empty());
  }
  EXPECT_NE(to_string(proxy_error::version_1).find("send-proxy-v2"), std::string_view::npos);
}

#pragma once
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::net {

// The networks (--trusted-proxies) whose connections must open with a PROXY protocol v2 header
// carrying the client's address. Empty (the default): no connection is ever read for one, so a
// client cannot claim an address it does not have. Read-only after construction: a worker keeps
// its own copy, which its thread alone reads.
class trusted_proxies {
 public:
  // `networks`: "ADDRESS/PREFIX" or a bare address (a single host), IPv4 or IPv6. Throws
  // std::invalid_argument naming the first entry that is neither.
  explicit trusted_proxies(const std::vector<std::string>& networks = {});

  // True when `peer` lies in one of the networks; an IPv4 peer seen as ::ffff:a.b.c.d (a
  // dual-stack listener) matches IPv4 networks. An empty list costs one branch.
  bool trusts(const boost::asio::ip::address& peer) const noexcept;

  // Why `text` is not a network, or nullopt when it is one.
  static std::optional<std::string> invalid(std::string_view text);

 private:
  struct network {
    bool ipv6 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
    unsigned prefix = 0;                   // leading bits that must match
  };
  static std::optional<network> parse(std::string_view text);
  static bool contains(const network& net, bool ipv6, const std::uint8_t* bytes) noexcept;

  std::vector<network> networks_;
};

}  // namespace parley::net

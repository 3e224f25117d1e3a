#pragma once
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace parley::net {

// A connection's peer, kept as 20 bytes rather than as text (every idle connection holds one)
// and written as the logs and the admin API show it: "127.0.0.1:5000", "::1:5000". A plain
// value.
class peer_address {
 public:
  peer_address() = default;
  explicit peer_address(const boost::asio::ip::tcp::endpoint& endpoint)
      : port_(endpoint.port()), v6_(endpoint.address().is_v6()) {
    if (v6_) {
      bytes_ = endpoint.address().to_v6().to_bytes();
    } else {
      auto v4 = endpoint.address().to_v4().to_bytes();
      std::copy(v4.begin(), v4.end(), bytes_.begin());
    }
  }

  std::string text() const {
    boost::asio::ip::address address;
    if (v6_) {
      address = boost::asio::ip::address_v6(bytes_);
    } else {
      address = boost::asio::ip::address_v4({bytes_[0], bytes_[1], bytes_[2], bytes_[3]});
    }
    return address.to_string() + ":" + std::to_string(port_);
  }

 private:
  std::array<unsigned char, 16> bytes_{};  // IPv4 in the first four
  std::uint16_t port_ = 0;
  bool v6_ = false;
};

}  // namespace parley::net

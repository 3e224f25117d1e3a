#include "parley/net/trusted_proxies.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace parley::net {

namespace asio = boost::asio;

trusted_proxies::trusted_proxies(const std::vector<std::string>& networks) {
  for (const auto& text : networks) {
    auto net = parse(text);
    if (!net) throw std::invalid_argument(*invalid(text));
    networks_.push_back(*net);
  }
}

std::optional<std::string> trusted_proxies::invalid(std::string_view text) {
  if (parse(text)) return std::nullopt;
  return std::string(text) +
         " is not an address or ADDRESS/PREFIX (10.0.0.0/8, 127.0.0.1, ::1/128)";
}

std::optional<trusted_proxies::network> trusted_proxies::parse(std::string_view text) {
  auto slash = text.find('/');
  boost::system::error_code ec;
  auto address = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  network net;
  net.ipv6 = address.is_v6();
  unsigned bits = net.ipv6 ? 128 : 32;
  net.prefix = bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), net.prefix);
    if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty() ||
        net.prefix > bits) {
      return std::nullopt;
    }
  }
  if (net.ipv6) {
    auto b = address.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), net.bytes.begin());
  } else {
    auto b = address.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), net.bytes.begin());
  }
  return net;
}

bool trusted_proxies::contains(const network& net, bool ipv6, const std::uint8_t* bytes) noexcept {
  if (net.ipv6 != ipv6) return false;
  unsigned whole = net.prefix / 8;
  if (!std::equal(bytes, bytes + whole, net.bytes.begin())) return false;
  unsigned rest = net.prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes[whole] & mask) == (net.bytes[whole] & mask);
}

bool trusted_proxies::trusts(const asio::ip::address& peer) const noexcept {
  if (networks_.empty()) return false;
  std::array<std::uint8_t, 16> bytes{};
  bool ipv6 = peer.is_v6() && !peer.to_v6().is_v4_mapped();
  if (ipv6) {
    bytes = peer.to_v6().to_bytes();
  } else {
    auto v4 =
        peer.is_v4() ? peer.to_v4() : asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
    auto b = v4.to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  }
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const network& net) { return contains(net, ipv6, bytes.data()); });
}

}  // namespace parley::net

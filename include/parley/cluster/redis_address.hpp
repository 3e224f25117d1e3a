#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::cluster {

// Where Redis listens: parsed from "redis://HOST:PORT" (the port defaults to 6379).
struct redis_address {
  std::string host;
  std::uint16_t port = 6379;
  // Throws std::invalid_argument saying what is wrong with `url`.
  static redis_address parse(std::string_view url);
};

}  // namespace parley::cluster

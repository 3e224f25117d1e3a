#pragma once
#include <string>
#include <string_view>

namespace parley::core {

// Standard base64 (RFC 4648 section 4, with padding), by OpenSSL: tokens and exports.
std::string base64_encode(std::string_view bytes);

}  // namespace parley::core

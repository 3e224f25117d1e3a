#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace parley::protocol {

// Decodes %XX escapes of a URL path (RFC 3986). '+' stays '+' (it means a space only in
// form-encoded queries). Returns nullopt for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace parley::protocol

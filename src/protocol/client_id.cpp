#include "parley/protocol/client_id.hpp"

#include <algorithm>

namespace parley::protocol {

namespace {
bool is_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}
}  // namespace

bool is_valid_client_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= max_client_id_bytes &&
         std::all_of(id.begin(), id.end(), is_id_char);
}

}  // namespace parley::protocol

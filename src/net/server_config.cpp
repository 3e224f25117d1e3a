#include "parley/net/server_config.hpp"

#include <algorithm>

namespace parley::net {

std::size_t server_config::effective_max_outbox_bytes() const {
  return std::max(max_outbox_bytes, 2 * std::max(max_text_bytes, max_binary_bytes));
}

}  // namespace parley::net

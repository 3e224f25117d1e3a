#pragma once
#include <cstddef>
#include <string_view>

namespace parley::protocol {

// protocol.md: a client id is 1 to 64 bytes of [A-Za-z0-9_.-] after percent-decoding.
inline constexpr std::size_t max_client_id_bytes = 64;

bool is_valid_client_id(std::string_view id) noexcept;

// The plain-text reason sent with HTTP 400 for a bad id.
inline constexpr std::string_view bad_client_id_reason =
    "client_id must be 1 to 64 characters of A-Z a-z 0-9 _ . - (path /ws/{client_id})\n";

}  // namespace parley::protocol

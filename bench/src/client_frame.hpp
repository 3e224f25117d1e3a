#pragma once
// Client side of RFC 6455 framing, with no I/O: masked frames appended to a buffer, server
// frames parsed in place. Nothing here allocates except a buffer growing past its capacity.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace parley::bench {

enum class ws_opcode : std::uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10
};

// One parsed server frame. `payload` points into the caller's buffer (servers send unmasked).
struct server_frame {
  ws_opcode opcode{};
  bool fin = false;
  std::string_view payload;
};

enum class parse_status { complete, need_more, protocol_error };

struct parse_result {
  parse_status status = parse_status::need_more;
  std::size_t consumed = 0;  // bytes of the frame, header included, when complete
  std::size_t needed = 0;    // total bytes the frame needs, when known and need_more
  server_frame frame;
};

// Parses the frame at the start of `data`. A masked server frame, reserved bits or a payload
// over 2^40 bytes is a protocol error (the tool never negotiates extensions).
parse_result parse_server_frame(std::string_view data);

// Header size of a client frame carrying `payload_len` bytes (2, 4 or 10 plus the 4-byte key).
std::size_t client_header_size(std::size_t payload_len);

// Appends the header of a masked final frame to `out` and returns the offset of its payload,
// which the caller fills (payload_len bytes, already reserved) and then masks with mask_payload.
std::size_t append_client_header(std::vector<char>& out, ws_opcode op, std::size_t payload_len,
                                 std::uint32_t mask_key);

// XORs `len` bytes at `p` with the 4-byte key (RFC 6455 section 5.3), 8 bytes at a time.
void mask_payload(char* p, std::size_t len, std::uint32_t mask_key);

// Appends a complete masked frame carrying `payload`.
void append_client_frame(std::vector<char>& out, ws_opcode op, std::string_view payload,
                         std::uint32_t mask_key);

}  // namespace parley::bench

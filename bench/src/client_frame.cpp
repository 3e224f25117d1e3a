#include "client_frame.hpp"

#include <cstring>

namespace parley::bench {

parse_result parse_server_frame(std::string_view data) {
  parse_result r;
  if (data.size() < 2) return r;
  auto const b0 = static_cast<std::uint8_t>(data[0]);
  auto const b1 = static_cast<std::uint8_t>(data[1]);
  if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) {
    r.status = parse_status::protocol_error;
    return r;
  }
  std::size_t header = 2;
  std::uint64_t len = b1 & 0x7f;
  if (len == 126) {
    header = 4;
    if (data.size() < header) return r;
    len = (std::uint64_t{static_cast<std::uint8_t>(data[2])} << 8) |
          static_cast<std::uint8_t>(data[3]);
  } else if (len == 127) {
    header = 10;
    if (data.size() < header) return r;
    len = 0;
    for (int i = 2; i < 10; ++i)
      len = (len << 8) | static_cast<std::uint8_t>(data[i]);
    if (len > (std::uint64_t{1} << 40)) {
      r.status = parse_status::protocol_error;
      return r;
    }
  }
  r.needed = header + static_cast<std::size_t>(len);
  if (data.size() < r.needed) return r;
  r.status = parse_status::complete;
  r.consumed = r.needed;
  r.frame.opcode = static_cast<ws_opcode>(b0 & 0x0f);
  r.frame.fin = (b0 & 0x80) != 0;
  r.frame.payload = data.substr(header, static_cast<std::size_t>(len));
  return r;
}

std::size_t client_header_size(std::size_t payload_len) {
  return (payload_len < 126 ? 2 : payload_len <= 0xffff ? 4 : 10) + 4;
}

std::size_t append_client_header(std::vector<char>& out, ws_opcode op, std::size_t payload_len,
                                 std::uint32_t mask_key) {
  std::size_t const start = out.size();
  std::size_t const hsize = client_header_size(payload_len);
  out.resize(start + hsize + payload_len);
  auto* h = reinterpret_cast<unsigned char*>(out.data() + start);
  h[0] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(op));
  std::size_t i = 2;
  if (payload_len < 126) {
    h[1] = static_cast<unsigned char>(0x80 | payload_len);
  } else if (payload_len <= 0xffff) {
    h[1] = 0x80 | 126;
    h[2] = static_cast<unsigned char>(payload_len >> 8);
    h[3] = static_cast<unsigned char>(payload_len);
    i = 4;
  } else {
    h[1] = 0x80 | 127;
    for (int k = 0; k < 8; ++k)
      h[2 + k] = static_cast<unsigned char>(std::uint64_t{payload_len} >> (56 - 8 * k));
    i = 10;
  }
  std::memcpy(h + i, &mask_key, 4);  // the key's bytes in memory order are the wire order
  return start + hsize;
}

void mask_payload(char* p, std::size_t len, std::uint32_t mask_key) {
  std::uint64_t const key8 = (std::uint64_t{mask_key} << 32) | mask_key;
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    v ^= key8;
    std::memcpy(p + i, &v, 8);
  }
  unsigned char key[4];
  std::memcpy(key, &mask_key, 4);
  for (; i < len; ++i)
    p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

void append_client_frame(std::vector<char>& out, ws_opcode op, std::string_view payload,
                         std::uint32_t mask_key) {
  std::size_t const at = append_client_header(out, op, payload.size(), mask_key);
  if (!payload.empty()) std::memcpy(out.data() + at, payload.data(), payload.size());
  mask_payload(out.data() + at, payload.size(), mask_key);
}

}  // namespace parley::bench

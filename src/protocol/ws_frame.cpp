#include "parley/protocol/ws_frame.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

namespace parley::protocol {

namespace {
// Writes the header of an unmasked, final frame of `length` payload bytes; returns its size.
std::size_t write_header(unsigned char* h, opcode op, std::uint64_t length) {
  h[0] = 0x80 | static_cast<unsigned char>(op);  // FIN, no RSV bits
  if (length < 126) {
    h[1] = static_cast<unsigned char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    h[1] = 126;
    h[2] = static_cast<unsigned char>(length >> 8);
    h[3] = static_cast<unsigned char>(length);
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; ++i)
    h[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
  return 10;
}

std::size_t header_size(std::uint64_t length) {
  return length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
}

// A relay makes and frees small frames by the thousand per loop turn. glibc keeps only seven
// free blocks of a size per thread (its tcache) and sends the others through its bins, which
// cost nearly a fifth of a relay's user time (perf). So each thread keeps free blocks of one
// small size for frames to reuse, whichever thread made them; a larger frame goes to malloc.
constexpr std::size_t small_block_bytes = 256;  // a chat message with its JSON, usually
// Free blocks a thread keeps at most: 1 MiB, about a loop turn's worth at full speed.
constexpr std::size_t cached_blocks = 4096;

thread_local bool block_cache_gone = false;  // trivially destructible: readable to the end

class block_cache {
 public:
  block_cache() { free_.reserve(cached_blocks); }
  ~block_cache() {
    block_cache_gone = true;
    for (void* block : free_)
      ::operator delete(block);
  }
  void* take() {
    if (free_.empty()) return ::operator new(small_block_bytes);
    void* block = free_.back();
    free_.pop_back();
    return block;
  }
  void give(void* block) {
    if (free_.size() < cached_blocks) return free_.push_back(block);
    ::operator delete(block);
  }

 private:
  std::vector<void*> free_;
};

thread_local block_cache small_blocks;

// Memory for a frame of `bytes` (with its header object). Sanitized builds skip the cache, so
// that every frame freed is poisoned.
void* allocate_frame(std::size_t bytes) {
#if !defined(__SANITIZE_ADDRESS__)
  if (bytes <= small_block_bytes && !block_cache_gone) return small_blocks.take();
#endif
  return ::operator new(bytes <= small_block_bytes ? small_block_bytes : bytes);
}

void free_frame(void* memory, std::size_t bytes) {
#if !defined(__SANITIZE_ADDRESS__)
  if (bytes <= small_block_bytes && !block_cache_gone) return small_blocks.give(memory);
#endif
  ::operator delete(memory);
}
}  // namespace

shared_frame frame::make(opcode op, std::initializer_list<std::string_view> parts) {
  std::size_t length = 0;
  for (std::string_view part : parts)
    length += part.size();
  std::size_t size = header_size(length) + length;
  auto* f = new (allocate_frame(sizeof(frame) + size)) frame(size);
  char* out = f->data() + write_header(reinterpret_cast<unsigned char*>(f->data()), op, length);
  for (std::string_view part : parts) {
    if (!part.empty()) std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  return shared_frame(f);
}

void frame::destroy(const frame* f) noexcept {
  std::size_t bytes = sizeof(frame) + f->size_;
  f->~frame();
  free_frame(const_cast<frame*>(f), bytes);
}

std::string_view frame::payload() const noexcept {
  auto length_byte = static_cast<unsigned char>(bytes()[1]) & 0x7F;
  std::size_t header = length_byte < 126 ? 2 : length_byte == 126 ? 4 : 10;
  return bytes().substr(header);
}

shared_frame make_frame_copy(opcode op, std::string_view payload) {
  return frame::make(op, {payload});
}

shared_frame make_close_frame(close_code code, std::string_view reason) {
  auto value = static_cast<std::uint16_t>(code);
  const char status[2] = {static_cast<char>(value >> 8), static_cast<char>(value & 0xFF)};
  // Control frames carry at most 125 bytes. A longer reason is cut before the character that
  // crosses the limit, so that it stays UTF-8 (RFC 6455 section 5.5.1).
  std::size_t keep = std::min<std::size_t>(reason.size(), 123);
  if (keep < reason.size()) {
    while (keep > 0 && (static_cast<unsigned char>(reason[keep]) & 0xC0) == 0x80)
      --keep;
  }
  return frame::make(opcode::close, {std::string_view(status, 2), reason.substr(0, keep)});
}

}  // namespace parley::protocol

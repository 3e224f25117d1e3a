// libFuzzer target: the RFC 6455 frame parser (ws_reader) on arbitrary client bytes.
//
// Input: [limits byte][chunking seed byte][client stream...]. The stream is parsed twice:
// whole, and fed in pseudo-random chunks the way a socket delivers it. Both runs must report
// the same events (parsing may not depend on how the bytes arrive), and every event must
// respect the reader's contract (limits, UTF-8, control-frame sizes, close codes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "parley/protocol/utf8_validator.hpp"
#include "parley/protocol/ws_reader.hpp"

namespace {

using namespace parley::protocol;

class recorder final : public ws_reader_handler {
 public:
  explicit recorder(ws_reader_limits limits) : limits_(limits) {}

  void on_text(std::string_view payload) override {
    FUZZ_CHECK(payload.size() <= limits_.max_text_bytes);
    FUZZ_CHECK(utf8_validator::is_valid(payload));
    add('T', payload);
  }
  void on_text_too_large(std::size_t size) override {
    FUZZ_CHECK(size > limits_.max_text_bytes);
    FUZZ_CHECK(size <= limits_.max_message_bytes);
    add('L', std::to_string(size));
  }
  void on_binary(std::string_view payload) override {
    FUZZ_CHECK(payload.size() <= limits_.max_message_bytes);
    add('B', payload);
  }
  void on_ping(std::string_view payload) override {
    FUZZ_CHECK(payload.size() <= 125);
    add('P', payload);
  }
  void on_pong() override { add('O', ""); }
  void on_close(std::uint16_t code, std::string_view reason) override {
    FUZZ_CHECK(code == static_cast<std::uint16_t>(close_code::no_status) ||
               is_valid_peer_close_code(code));
    FUZZ_CHECK(reason.size() <= 123);
    FUZZ_CHECK(utf8_validator::is_valid(reason));
    add('C', std::to_string(code) + ":" + std::string(reason));
  }

  std::vector<std::string> events;

 private:
  void add(char kind, std::string_view body) { events.push_back(kind + std::string(body)); }
  ws_reader_limits limits_;
};

struct outcome {
  std::vector<std::string> events;
  int failure;  // close code, or -1
  bool closed;
};

// The caller's side of consume(): keep what was not used, append what arrives.
outcome run(std::string_view stream, ws_reader_limits limits, std::uint8_t seed) {
  ws_reader reader(limits);
  recorder handler(limits);
  std::string pending;
  std::size_t offset = 0;
  std::uint32_t state = seed * 2654435761u + 1;
  while (offset < stream.size() && !reader.stopped()) {
    std::size_t chunk = stream.size() - offset;
    if (seed != 0) {
      state = state * 1103515245u + 12345u;
      chunk = std::min<std::size_t>(chunk, 1 + (state >> 16) % 64);
    }
    pending.append(stream.substr(offset, chunk));
    offset += chunk;
    std::size_t used = reader.consume(pending.data(), pending.size(), handler);
    FUZZ_CHECK(used <= pending.size());
    pending.erase(0, used);
    if (!reader.stopped() && reader.next_frame_size() != 0) {
      FUZZ_CHECK(reader.next_frame_size() > pending.size());
    }
  }
  auto failure = reader.failure();
  return {std::move(handler.events), failure ? static_cast<int>(*failure) : -1, reader.closed()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // Small limits, so that the too-large paths are reached: text 0..63, message 0..1023 bytes
  // (and at least the text limit), 8 frames per message.
  std::size_t max_text = data[0] & 0x3F;
  std::size_t max_message = max_text + ((data[0] >> 6) * 300) + (data[1] & 0x7);
  ws_reader_limits limits{max_text, max_message, 8};
  std::uint8_t seed = data[1] >> 3;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  outcome whole = run(stream, limits, 0);
  outcome chunked = run(stream, limits, static_cast<std::uint8_t>(seed | 1));
  // A failure found in the whole buffer may be found in chunks only once the bytes that prove
  // it have arrived, but all bytes do arrive, so the outcome is the same.
  FUZZ_CHECK(whole.events == chunked.events);
  FUZZ_CHECK(whole.failure == chunked.failure);
  FUZZ_CHECK(whole.closed == chunked.closed);
  FUZZ_CHECK(!(whole.closed && whole.failure != -1));
  if (whole.failure != -1) {
    FUZZ_CHECK(whole.failure == 1002 || whole.failure == 1007 || whole.failure == 1009);
  }
  return 0;
}

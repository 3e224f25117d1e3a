// libFuzzer target: a whole WebSocket session without the socket. The bytes a client would
// send go through what ws_session does with them: ws_reader (framing, UTF-8, limits) into
// chat_connection (the request codec and the hub), with a second connection online so that
// messages, files, presence and `left` are routed. Every frame the server would write must be a
// well-formed server frame, and every text frame a JSON object in valid UTF-8.
//
// ws_session itself reads a tcp::socket directly (non-blocking read_some and async_wait), not
// an abstract stream, so the socket side is not in this target; the conformance suite covers it.
//
// Input: [chunking seed byte][client stream...].
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "parley/core/chat_connection.hpp"
#include "parley/core/counters.hpp"
#include "parley/core/hub.hpp"
#include "parley/protocol/utf8_validator.hpp"
#include "parley/protocol/ws_reader.hpp"

namespace {

using namespace parley;

// Decodes and checks one server frame (RFC 6455 5.2: unmasked, minimal length, FIN set).
void check_server_frame(std::string_view wire) {
  FUZZ_CHECK(wire.size() >= 2);
  auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(wire[i]); };
  FUZZ_CHECK((at(0) & 0x80) != 0);  // Parley never fragments
  FUZZ_CHECK((at(0) & 0x70) == 0);
  FUZZ_CHECK((at(1) & 0x80) == 0);
  std::uint64_t length = at(1) & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    header = 4;
    FUZZ_CHECK(wire.size() >= header);
    length = (std::uint64_t{at(2)} << 8) | at(3);
    FUZZ_CHECK(length >= 126);
  } else if (length == 127) {
    header = 10;
    FUZZ_CHECK(wire.size() >= header);
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | at(2 + i);
    FUZZ_CHECK(length > 0xFFFF);
  }
  FUZZ_CHECK(wire.size() == header + length);
  std::string_view payload = wire.substr(header);
  auto op = at(0) & 0x0F;
  if (op == 0x1) {
    FUZZ_CHECK(protocol::utf8_validator::is_valid(payload));
    boost::system::error_code ec;
    auto value = boost::json::parse(payload, ec);
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(value.is_object());
    FUZZ_CHECK(value.as_object().contains("type") || value.as_object().contains("from"));
  } else {
    FUZZ_CHECK(op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA);
    if (op != 0x2) FUZZ_CHECK(payload.size() <= 125);
  }
}

class checking_sink final : public core::sink {
 public:
  void deliver(protocol::shared_frame frame) override {
    check_server_frame(frame->bytes());
    ++frames;
  }
  description describe() const override { return {}; }
  void request_close(protocol::close_code, std::string_view) override {}  // no admin here
  std::size_t frames = 0;
};

// What ws_session does with reader events, minus the socket.
class session final : public protocol::ws_reader_handler {
 public:
  explicit session(const core::chat_services& services)
      : out(std::make_shared<checking_sink>()), chat(services, "1001", *out) {}

  void on_text(std::string_view payload) override {
    if (!closing) chat.on_text(payload);
  }
  void on_text_too_large(std::size_t size) override {
    if (!closing) chat.on_text_too_large(size);
  }
  void on_binary(std::string_view payload) override {
    if (!closing) chat.on_binary(payload);
  }
  void on_ping(std::string_view payload) override {
    out->deliver(protocol::make_frame_copy(protocol::opcode::pong, payload));
  }
  void on_pong() override {}
  void on_close(std::uint16_t code, std::string_view reason) override {
    closing = true;
    auto reply = code == static_cast<std::uint16_t>(protocol::close_code::no_status)
                     ? protocol::close_code::normal
                     : protocol::close_code{code};
    out->deliver(protocol::make_close_frame(reply, ""));
    chat.close();
  }

  std::shared_ptr<checking_sink> out;
  core::chat_connection chat;
  bool closing = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static protocol::request_parser parser(protocol::request_limits{16});
  core::chat_limits limits;
  limits.max_text_bytes = 6000;  // over the parser's 4 KiB initial buffer
  limits.max_watched_ids = 16;
  limits.max_who_ids = 4;
  core::hub hub;
  core::counters stats;

  // The partner, online as "6001", and the session under test as "1001".
  auto partner_sink = std::make_shared<checking_sink>();
  const core::chat_services services{hub, nullptr, parser, limits, stats};
  core::chat_connection partner(services, "6001", *partner_sink);
  partner.open();
  session s(services);
  s.chat.open();

  const protocol::ws_reader_limits reader_limits{limits.max_text_bytes, 7000, 64};
  protocol::ws_reader reader(reader_limits);
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::uint32_t state = data[0] * 2654435761u + 7;
  std::string pending;
  std::size_t offset = 0;
  while (offset < stream.size() && !reader.stopped()) {
    state = state * 1103515245u + 12345u;
    std::size_t chunk = std::min<std::size_t>(stream.size() - offset, 1 + (state >> 16) % 256);
    pending.append(stream.substr(offset, chunk));
    offset += chunk;
    std::size_t used = reader.consume(pending.data(), pending.size(), s);
    pending.erase(0, used);
  }
  if (auto failure = reader.failure()) {
    s.closing = true;
    s.out->deliver(protocol::make_close_frame(*failure, "protocol violation"));
  }
  s.chat.close();
  partner.close();
  FUZZ_CHECK(hub.connection_count() == 0);
  return 0;
}

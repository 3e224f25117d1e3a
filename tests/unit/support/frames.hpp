#pragma once
// Test helpers shared by the unit tests: decoding server frames (RFC 6455 section 5.2, unmasked)
// and building masked client frames, written independently of the code under test.
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/sink.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::test {

// Bytes from a list of values, e.g. bytes({0x81, 0x05}).
inline std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

// Records a test failure and returns an empty T.
template <typename T>
T failed(std::string_view why) {
  ADD_FAILURE() << why;
  return T{};
}

struct decoded_frame {
  bool valid = false;
  std::uint8_t first_byte = 0;  // FIN, RSV and opcode
  std::string payload;
};

// Decodes one whole server frame: [FIN|opcode][length, minimal 7/16/64-bit form][payload],
// never masked. Reports a test failure (and valid = false) when `wire` is anything else.
inline decoded_frame decode_server_frame(std::string_view wire) {
  decoded_frame out;
  if (wire.size() < 2) return failed<decoded_frame>("frame shorter than 2 bytes");
  auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(wire[i]); };
  if (at(1) & 0x80) return failed<decoded_frame>("server frame is masked");
  std::uint64_t length = at(1) & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    header = 4;
    if (wire.size() < header) return failed<decoded_frame>("truncated 16-bit length");
    length = (std::uint64_t{at(2)} << 8) | at(3);
    if (length < 126) return failed<decoded_frame>("16-bit length form for a short payload");
  } else if (length == 127) {
    header = 10;
    if (wire.size() < header) return failed<decoded_frame>("truncated 64-bit length");
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | at(2 + i);
    if (length <= 0xFFFF) return failed<decoded_frame>("64-bit length form for a short payload");
  }
  if (wire.size() != header + length) {
    ADD_FAILURE() << "frame of " << wire.size() << " bytes announces " << header << " + " << length;
    return out;
  }
  out.valid = true;
  out.first_byte = at(0);
  out.payload = std::string(wire.substr(header));
  return out;
}

inline decoded_frame decode_server_frame(const protocol::shared_frame& frame) {
  EXPECT_EQ(frame->size(), frame->bytes().size());
  return decode_server_frame(frame->bytes());
}

// The JSON object of a server text frame (0x81). An empty object, after a test failure, when
// the frame is anything else.
inline boost::json::object frame_json(const protocol::shared_frame& frame) {
  decoded_frame f = decode_server_frame(frame);
  if (!f.valid) return {};
  if (f.first_byte != 0x81) {
    ADD_FAILURE() << "not a final text frame: first byte " << int{f.first_byte};
    return {};
  }
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(f.payload, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "frame payload is not a JSON object: " << f.payload;
    return {};
  }
  return v.get_object();
}

// A binary server frame split per protocol.md: [2-byte header length][header JSON][payload].
struct decoded_file {
  boost::json::object header;
  std::string payload;
};

inline decoded_file file_json(const protocol::shared_frame& frame) {
  decoded_frame f = decode_server_frame(frame);
  if (!f.valid) return {};
  if (f.first_byte != 0x82) {
    ADD_FAILURE() << "not a final binary frame: first byte " << int{f.first_byte};
    return {};
  }
  if (f.payload.size() < 2) return failed<decoded_file>("binary frame without header length");
  std::size_t h = (std::size_t{static_cast<std::uint8_t>(f.payload[0])} << 8) |
                  static_cast<std::uint8_t>(f.payload[1]);
  if (2 + h > f.payload.size()) return failed<decoded_file>("header length past the end");
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(std::string_view(f.payload).substr(2, h), ec);
  if (ec || !v.is_object()) return failed<decoded_file>("binary header is not a JSON object");
  return {v.get_object(), f.payload.substr(2 + h)};
}

// A client frame as a browser sends it: masked, with the minimal length form, or with the
// length form forced by `length_bytes` (0, 2 or 8).
inline std::string client_frame(std::uint8_t first_byte, std::string_view payload,
                                std::array<std::uint8_t, 4> mask = {0x37, 0xfa, 0x21, 0x3d},
                                int length_bytes = -1) {
  std::uint64_t n = payload.size();
  if (length_bytes < 0) length_bytes = n < 126 ? 0 : n <= 0xFFFF ? 2 : 8;
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  if (length_bytes == 0) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (length_bytes == 2) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  for (std::uint8_t m : mask)
    out.push_back(static_cast<char>(m));
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i % 4]));
  }
  return out;
}

// A sink that keeps every frame delivered to it. Thread-safe, as the hub and the store may call
// it from any thread; a test waits for frames or store answers with a bounded wait.
class recording_sink : public core::sink {
 public:
  void deliver(protocol::shared_frame frame) override {
    {
      std::lock_guard lock(mutex_);
      frames_.push_back(std::move(frame));
    }
    changed_.notify_all();
  }
  // Counts the store's answers (one per request, message_store's contract).
  void store_done(protocol::shared_frame last) override {
    {
      std::lock_guard lock(mutex_);
      if (last) frames_.push_back(std::move(last));
      ++answers_;
    }
    changed_.notify_all();
  }
  std::size_t answers() const {
    std::lock_guard lock(mutex_);
    return answers_;
  }
  // Waits until the store has answered `n` requests in all; false when `limit` passed first.
  bool wait_for_answers(std::size_t n,
                        std::chrono::milliseconds limit = std::chrono::seconds(10)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return answers_ >= n; });
  }
  // Waits until `n` frames are held (frames taken or cleared no longer count); false when
  // `limit` passed first.
  bool wait_for_frames(std::size_t n,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return frames_.size() >= n; });
  }
  std::vector<protocol::shared_frame> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return frames_.size();
  }
  // The frames received so far, and forgets them.
  std::vector<protocol::shared_frame> take_frames() {
    std::vector<protocol::shared_frame> taken;
    std::lock_guard lock(mutex_);
    taken.swap(frames_);
    return taken;
  }
  // The JSON objects of the text frames received so far, and forgets them.
  std::vector<boost::json::object> take_json() {
    std::vector<protocol::shared_frame> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(frames_);
    }
    std::vector<boost::json::object> out;
    for (const auto& f : taken)
      out.push_back(frame_json(f));
    return out;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    frames_.clear();
  }
  description describe() const override { return {"test", 0, 0, count()}; }
  void request_close(protocol::close_code code, std::string_view) override {
    std::lock_guard lock(mutex_);
    close_requested_ = code;
  }
  std::optional<protocol::close_code> close_requested() const {
    std::lock_guard lock(mutex_);
    return close_requested_;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<protocol::shared_frame> frames_;
  std::size_t answers_ = 0;
  std::optional<protocol::close_code> close_requested_;
};

// A JSON object from its text, for comparing a frame with an expected object.
inline boost::json::object json_object(std::string_view text) {
  return boost::json::parse(text).as_object();
}

}  // namespace parley::test

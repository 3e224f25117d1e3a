#pragma once
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "parley/net/server_config.hpp"
#include "parley/net/transport.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::net {

// One connection's frames waiting for the socket, and its limits (protocol.md, "Limits", slow
// readers): over the hard limit (server_config::effective_max_outbox_bytes) the connection
// is closed at once; over the soft limit (outbox_soft_bytes) for longer than
// outbox_soft_seconds, too. The outbox only answers which limit is passed, as a value: the
// session logs, drops and closes.
//
// Frames are shared (built once for every recipient); the first two queued fit in the
// outbox itself, so an idle connection's outbox allocates nothing. A plain value owned by
// one ws_session: only its worker's thread touches it.
class outbox {
 public:
  using clock = std::chrono::steady_clock;

  enum class verdict : std::uint8_t {
    within,         // nothing to do
    soft_crossed,   // push(): just went over the soft limit; start its clock: over_soft_from()
    over_hard,      // push(): over the hard limit: drop what is unsent and close (4008)
    soft_too_long,  // check(): over the soft limit for too long: likewise
  };

  // Queues `frame` and answers where the unsent bytes now stand against the limits. (Here
  // rather than in outbox.cpp: it is on every message's path.)
  verdict push(protocol::shared_frame frame, const server_config& config) {
    push_final(std::move(frame));
    if (bytes_ > config.effective_max_outbox_bytes()) return verdict::over_hard;
    if (bytes_ > config.outbox_soft_bytes && over_soft_since_ == never) {
      return verdict::soft_crossed;
    }
    return verdict::within;
  }
  // Queues the connection's last frame (its close frame) whatever the limits.
  void push_final(protocol::shared_frame frame) {
    bytes_ += frame->size();
    frames_.push_back(std::move(frame));
  }
  // When the soft limit was crossed (the answer soft_crossed came from push()).
  void over_soft_from(clock::time_point since) { over_soft_since_ = since; }
  // The periodic check: soft_too_long once over the soft limit for longer than allowed.
  verdict check(clock::time_point now, const server_config& config);

  bool empty() const { return head_ == frames_.size(); }
  std::size_t bytes() const { return bytes_; }  // unsent, in all
  // Adds the unsent bytes to `buffers`, in order, as many frames as fit.
  void gather(gathered_buffers& buffers) const;
  // The socket took the first `bytes` of what gather() gave.
  void written(std::size_t bytes);
  // Drops every frame not yet begun, so that a close frame goes out next; a frame partly
  // written stays (the stream would be corrupt without its end).
  void drop_unsent();
  // Forgets every frame (all written, or the connection ended); returns to the idle size.
  void clear();

 private:
  static constexpr clock::time_point never = clock::time_point::max();
  static constexpr std::uint32_t reclaim_after = 64;  // sent slots, before they are worth a move

  // 32-bit positions: the hard limit bounds the frames queued and a frame's size far below 2^32.
  boost::container::small_vector<protocol::shared_frame, 2> frames_;
  std::uint32_t head_ = 0;                     // first frame not fully written
  std::uint32_t head_written_ = 0;             // bytes of that frame already written
  std::size_t bytes_ = 0;                      // unsent bytes in all
  clock::time_point over_soft_since_ = never;  // over the soft limit since; never: not over
};

}  // namespace parley::net

#pragma once
#include <chrono>
#include <cstdint>

#include "parley/protocol/ws_frame.hpp"

namespace parley::net {

// Where one connection is in its close handshake (RFC 6455 section 7), and the code its end is
// reported with (the log line and the close counters):
//
//   we close first:   begin() -> closing; the peer's close (on_peer_close) -> the session ends
//   the peer first:   on_peer_close() -> answer() -> closing
//                     or, while the store owes answers to earlier frames (protocol-v2):
//                     on_peer_close() -> defer() -> take_deferred() and answer(), when the
//                     store is done or at the deadline, whichever comes first
//   either way:       past the deadline while closing, the session ends without the peer;
//                     finish() once, however it ends.
//
// It records and answers; the session sends the frames and closes the socket. Kept small (it
// is in every idle connection). A plain value owned by one ws_session: only its worker's
// thread touches it.
class close_state {
 public:
  using clock = std::chrono::steady_clock;

  // We close with `code`, reported from now on; our close frame is to be queued and the
  // peer's awaited until `deadline`. False when our close frame was already queued, or the
  // connection has ended: nothing to do.
  bool begin(protocol::close_code code, clock::time_point deadline);
  // The peer's close frame arrived with `code`, reported from now on. Returns the code to
  // answer with: the peer's echoed (RFC 6455 section 5.5.1), 1000 for a close without one.
  protocol::close_code on_peer_close(std::uint16_t code);
  // Our close frame answers the peer's: begin(), but the peer's code stays the one reported.
  bool answer(clock::time_point deadline);
  // The answer waits for the store, until `deadline` at the latest.
  void defer(protocol::close_code reply, clock::time_point deadline);
  // The waiting answer, now to be given (answer()); none waits any more.
  protocol::close_code take_deferred();
  // The connection ends now; false when it already had.
  bool finish();

  bool closing() const { return closing_; }  // our close frame is queued: no more data frames
  bool peer_closed() const { return peer_closed_; }
  // We closed first (begin() before any close frame of the peer's): the log says why.
  bool server_began() const { return server_began_; }
  bool finished() const { return finished_; }
  // Data frames may still be queued: neither closing nor ended.
  bool open() const { return !closing_ && !finished_; }
  bool deferred() const { return deferred_ != 0; }
  // The deferred answer is due: the store took too long.
  bool deferred_due(clock::time_point now) const { return deferred_ != 0 && now >= deadline_; }
  // Closing, and the peer has not completed the handshake in time.
  bool overdue(clock::time_point now) const { return now >= deadline_; }
  // The code to report: ours or the peer's, whichever was set last; 1006 when neither.
  std::uint16_t code() const { return code_; }
  // The code to report when the socket fails: 1006 unless a close frame was sent or received.
  std::uint16_t code_if_dropped() const { return peer_closed_ || closing_ ? code_ : 1006; }

 private:
  clock::time_point deadline_{};  // of the close handshake, or of a deferred answer
  std::uint16_t code_ = 1006;
  std::uint16_t deferred_ = 0;  // the close code to answer once the store has answered; 0: none
  bool closing_ = false;
  bool peer_closed_ = false;
  bool finished_ = false;
  bool server_began_ = false;
};

}  // namespace parley::net

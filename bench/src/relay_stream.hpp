#pragma once
// One direction of a relay pair: the messages connection i sends to its partner. The sender's
// side hands out sequence numbers and counts what is in flight; the receiver's side checks
// what arrives (duplicates, reordering, gaps); and the messages the server refused with an
// error frame (with --ack) are kept apart, so that a refusal is never counted as a loss.
// Everything here runs on the worker thread that owns the pair.

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace parley::bench {

class relay_stream {
 public:
  enum class arrival { fresh, reordered, duplicated, stale };

  // -- the sender
  std::uint64_t next_seq = 0;  // the next sequence number to send
  // Sent and not yet answered: received by the partner, or (with --ack) acked or refused.
  std::uint64_t inflight = 0;
  std::uint64_t next_ack = 0;  // 1 + the highest sequence number acked

  // -- the receiver
  // Records the arrival of sequence number s (a duplicate or a message too late to tell is
  // not counted as received).
  arrival accept(std::uint64_t s);
  std::uint64_t received() const { return received_; }

  // -- refusals: the server answered s with an error frame; it will never arrive.
  void refuse(std::uint64_t s);
  std::uint64_t refused() const { return refused_; }

  // After the run. `lost`: missing below the highest number received (each stream is
  // ordered, so a gap that never fills is a loss) and not refused. `undelivered`: sent after
  // it and not refused (still in flight when the drain ran out).
  struct end_counts {
    std::uint64_t lost = 0, undelivered = 0;
  };
  end_counts at_end() const;

 private:
  static constexpr std::uint64_t seen_window = 1024;  // how far back duplicates are told apart
  // Refusals come in runs (a store that is down refuses everything until it is back), so they
  // are kept as ranges; past this many ranges they are only counted.
  static constexpr std::size_t max_refused_ranges = 4096;

  bool test(std::uint64_t s) const { return (seen_[(s % seen_window) / 64] >> (s % 64)) & 1; }
  void set(std::uint64_t s) { seen_[(s % seen_window) / 64] |= std::uint64_t{1} << (s % 64); }
  void clear(std::uint64_t s) { seen_[(s % seen_window) / 64] &= ~(std::uint64_t{1} << (s % 64)); }

  std::uint64_t max_seen_ = 0;                          // 1 + the highest sequence number received
  std::uint64_t received_ = 0;                          // distinct sequence numbers received
  std::array<std::uint64_t, seen_window / 64> seen_{};  // bit s % 1024, for the last 1024
  std::vector<std::pair<std::uint64_t, std::uint64_t>> refused_ranges_;  // [first, end)
  std::uint64_t refused_ = 0;                                            // every refusal
  std::uint64_t refused_untracked_ = 0;  // ... of which not in a range
};

}  // namespace parley::bench

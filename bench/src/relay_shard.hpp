#pragma once
// The relay workload on one worker thread: its pairs' connections (i <-> i^1, never split
// across threads), their sending (closed or open loop) and the checks and timings of what
// comes back. The main thread reads the solo_counters while it runs, everything else after
// the worker stopped.

#include "latency_histogram.hpp"
#include "relay_stream.hpp"
#include "reply_tally.hpp"
#include "shard.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::bench {

inline constexpr std::size_t relay_digits = 16;  // width of the sequence number and of the time
inline constexpr std::size_t relay_min_text = 2 * relay_digits + 2;  // "<seq>.<time>."

struct relay_counts {
  std::uint64_t duplicated = 0, reordered = 0, stale = 0, malformed = 0;
  std::uint64_t error_frames = 0, other_frames = 0, acks = 0, acks_out_of_order = 0, skipped = 0;
  std::uint64_t window_messages = 0, window_bytes = 0, window_acks = 0;
};

class relay_shard final : public shard {
 public:
  relay_shard(run_env& env, worker& w, std::size_t first, std::size_t count);

  // Starts sending at t0 (closed loop: a full window per sender; open loop: this shard's
  // share of the rate); [m0, m1) is the measured window. All times are now_ns() values.
  void post_start(std::int64_t t0, std::int64_t m0, std::int64_t m1, std::size_t total_senders);
  void post_stop();

  solo_counter sent, unique;
  solo_counter answered;  // with --ack: acks and refusals (error frames naming a message)
  solo_counter refused;   // ... of which refusals
  relay_counts counts;
  reply_tally replies;
  latency_histogram latency, send_lag, ack_latency;
  std::string first_error;

  // After the worker stopped: lost and undelivered messages over every stream.
  relay_stream::end_counts at_end() const;

 private:
  // A sender's prebuilt message; only the digits change from one send to the next.
  struct message_template {
    std::string bytes;
    std::size_t text_at = 0;
    std::size_t cid_at = 0;  // 0: no cid
  };

  message_template make_template(std::size_t partner) const;
  void send_one(std::size_t i, std::int64_t stamp_ns);
  void tick();
  bool in_window(std::int64_t now) const { return now >= m0_ && now < m1_; }
  void on_text(client_connection& c, std::string_view payload, std::size_t wire_bytes) override;
  void on_message(std::size_t i, std::string_view payload, std::size_t wire_bytes);
  void free_slot(std::size_t i, std::int64_t now);
  void on_ack(std::size_t i, std::string_view payload);
  void on_error(std::size_t i, std::string_view payload);

  std::vector<relay_stream> streams_;  // [i]: the messages connection first_ + i sends
  std::vector<message_template> templates_;
  boost::asio::steady_timer timer_;
  bool sending_ = false;
  std::int64_t t0_ = 0, m0_ = 0, m1_ = 0;
  double interval_ns_ = 0;
  std::uint64_t k_ = 0;
};

}  // namespace parley::bench

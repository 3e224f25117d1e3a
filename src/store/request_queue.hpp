#pragma once
// Private to src/store: the bounded queue between the threads that make store requests and a
// store thread that answers them, with the count that lets flush() wait for the answers.
// Every method is thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "store_requests.hpp"

namespace parley::store {

class request_queue {
 public:
  // Requests queued and not yet taken, at most. Far above what a commit's time lets pile up
  // (a few ms of messages), so it is reached only when the store stalls; past it senders get
  // `unavailable` at once rather than growing memory without end.
  static constexpr std::size_t max_queued = 1 << 16;

  // Queues `r`, or answers it `unavailable` (overloaded, or stopping) on the caller's thread.
  void submit(request r);
  // The store thread: waits up to `idle` for requests and moves up to `max` of them into
  // `taken` (in arrival order). False once stop() was called and nothing is left.
  bool take(std::vector<request>& taken, std::chrono::milliseconds idle, std::size_t max);
  // The store thread: the `n` requests it took last are answered.
  void answered(std::size_t n);
  // Waits until every request queued before the call is answered, or `limit` passes.
  void flush(std::chrono::milliseconds limit);
  void stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable progressed_;
  std::vector<request> queue_;
  std::size_t head_ = 0;              // the first request not yet taken
  std::uint64_t queued_total_ = 0;    // requests ever queued
  std::uint64_t answered_total_ = 0;  // requests ever answered
  bool stopping_ = false;
};

}  // namespace parley::store

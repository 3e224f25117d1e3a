#pragma once
// The connections one worker owns, with paced connecting and the counters the main thread
// watches. A workload derives from it; every method runs on the worker's thread except the
// atomics' readers and post_*.

#include "client_connection.hpp"
#include "run_env.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parley::bench {

// A counter written by one thread and read by others: plain load + store, no locked add.
// Release/acquire (free on x86), so a reader that sees a count also sees what the writer
// wrote before it (e.g. idle's time of the last welcome).
struct alignas(64) solo_counter {
  std::atomic<std::uint64_t> v{0};
  void add(std::uint64_t n = 1) {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  std::uint64_t get() const { return v.load(std::memory_order_acquire); }
};

class shard : public connection_handler {
 public:
  // Owns global connection indexes [first, first + count).
  shard(run_env& env, worker& w, std::size_t first, std::size_t count);
  virtual ~shard() = default;

  // Opens every connection, at most `concurrency` at once (from the worker's thread).
  void post_connect_all(std::size_t concurrency);
  // Sends a close frame on every connection that is open.
  void post_close_all();

  solo_counter opened;        // welcomes received
  solo_counter failed;        // connections that never opened
  solo_counter closed;        // connections that ended after opening
  solo_counter unexpected;    // ... of which before we asked to close
  std::string first_failure;  // read after the worker stopped
  std::size_t size() const { return conns_.size(); }

 protected:
  void on_welcome(client_connection& c) override;
  void on_closed(client_connection& c, bool was_open, std::string_view reason) override;
  virtual void welcomed(client_connection&) {}
  client_connection& conn(std::size_t local) { return *conns_[local]; }

  run_env& env_;
  worker& worker_;
  std::size_t first_;
  std::vector<std::unique_ptr<client_connection>> conns_;
  bool closing_all_ = false;

 private:
  void connect_next();
  std::size_t next_connect_ = 0;
  bool pacing_ = false;  // post_connect_all was called: each welcome or failure opens the next
};

}  // namespace parley::bench

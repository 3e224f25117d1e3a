#pragma once
// One load thread: its own io_context (concurrency hint 1: nothing here is shared between
// threads) and the list of connections that queued frames during the current handler turn.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <optional>
#include <thread>
#include <vector>

namespace parley::bench {

class client_connection;

class worker {
 public:
  explicit worker(std::size_t max_connections);
  worker(worker const&) = delete;
  worker& operator=(worker const&) = delete;
  ~worker();

  boost::asio::io_context& context() { return ioc_; }
  void start();
  // Stops the loop (pending handlers are dropped) and joins the thread. Idempotent.
  void stop();
  template <class F>
  void post(F&& f) {
    boost::asio::post(ioc_, std::forward<F>(f));
  }

  // Called by a connection that queued a frame; the frame goes out at the next flush_dirty.
  void mark_dirty(client_connection& c);
  // Starts the writes of every connection marked since the last call. Called at the end of
  // each read or timer handler, so that all the frames one turn produced share a syscall.
  void flush_dirty();

 private:
  boost::asio::io_context ioc_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::vector<client_connection*> dirty_;
};

}  // namespace parley::bench

#pragma once
#include <sys/epoll.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>

namespace parley::net {

// Readiness of a worker's WebSocket connections, from an epoll set of the worker's own in which
// each socket is registered once, edge-triggered, for reading and writing. The set's descriptor
// is waited on through the worker's io_context, so one Asio wait covers every connection.
//
// Why not an Asio wait per connection: Asio re-registers the socket (epoll_ctl) for every wait
// it is given, one system call per read, and each waiting connection holds an operation; here
// a connection waits for nothing and holds nothing.
class poller {
 public:
  // What a registered socket is told: the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, ...) that
  // arrived. Edge-triggered: a client reads until it would block (or comes back to it later
  // by itself); the next event comes only with new bytes or new room.
  class client {
   public:
    virtual void on_ready(std::uint32_t events) = 0;

   protected:
    ~client() = default;
  };

  // `after_batch` runs after each batch of events is delivered: the worker writes what the
  // batch queued there, one write per connection, without another turn of the loop.
  poller(boost::asio::io_context& io, std::function<void()> after_batch);
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // Starts reporting events of `fd` to `target`, which must outlive the registration:
  // closing the socket ends it. Events for a client already fetched are still delivered in
  // the same turn, so a client ignores events once it has closed its socket.
  bool add(int fd, client& target);
  // Starts waiting; events are then delivered on the io_context's thread while it runs.
  void start() { wait(); }
  // True while a batch is being delivered (after_batch is still to come).
  bool dispatching() const noexcept { return dispatching_; }

 private:
  void wait();
  void dispatch();
  template <typename Call>
  void guarded(Call&& call);

  // Events taken per epoll_wait call: more wait for the next turn of the loop.
  static constexpr int max_events = 256;

  int epoll_fd_;
  boost::asio::posix::stream_descriptor set_;
  std::function<void()> after_batch_;
  bool dispatching_ = false;
  std::array<epoll_event, max_events> events_;
};

}  // namespace parley::net

#include "parley/net/poller.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace parley::net {

namespace {
int create_epoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}
}  // namespace

// The stream_descriptor owns the epoll descriptor and closes it.
poller::poller(boost::asio::io_context& io, std::function<void()> after_batch)
    : epoll_fd_(create_epoll()), set_(io, epoll_fd_), after_batch_(std::move(after_batch)) {}

poller::~poller() = default;

bool poller::add(int fd, client& target) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = &target;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) return true;
  spdlog::warn("epoll_ctl(ADD) failed: {}", std::strerror(errno));
  return false;
}

// Waits again only once the batch is taken: waiting re-registers the set with Asio, which
// would otherwise find it still readable and wake once more for nothing.
void poller::wait() {
  set_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this](const boost::system::error_code& ec) {
                    if (ec) return;
                    dispatch();
                    wait();
                  });
}

// One batch per turn; when more are ready the set stays readable and the next wait returns
// at once, after the loop has served its other handlers. A client that throws is logged and
// the others are still served (and the poller still waits), as the worker's loop does.
void poller::dispatch() {
  int n = ::epoll_wait(epoll_fd_, events_.data(), max_events, 0);
  dispatching_ = true;
  for (int i = 0; i < n; ++i)
    guarded([&] { static_cast<client*>(events_[i].data.ptr)->on_ready(events_[i].events); });
  dispatching_ = false;
  guarded(after_batch_);
}

template <typename Call>
void poller::guarded(Call&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    spdlog::error("worker: a handler failed: {}", e.what());
  }
}

}  // namespace parley::net

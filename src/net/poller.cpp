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
poller::poller(boost::asio::io_context& io) : epoll_fd_(create_epoll()), set_(io, epoll_fd_) {}

poller::~poller() = default;

bool poller::add(int fd, client& target) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = &target;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) return true;
  spdlog::warn("epoll_ctl(ADD) failed: {}", std::strerror(errno));
  return false;
}

void poller::wait() {
  set_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this](const boost::system::error_code& ec) {
                    if (ec) return;
                    wait();  // first: a client that throws must not stop every other one
                    dispatch();
                  });
}

// One batch per turn; when more are ready the set stays readable and the next wait returns
// at once, after the loop has served its other handlers.
void poller::dispatch() {
  int n = ::epoll_wait(epoll_fd_, events_.data(), max_events, 0);
  for (int i = 0; i < n; ++i)
    static_cast<client*>(events_[i].data.ptr)->on_ready(events_[i].events);
}

}  // namespace parley::net

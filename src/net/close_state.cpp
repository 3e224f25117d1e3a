#include "parley/net/close_state.hpp"

#include <utility>

namespace parley::net {

using protocol::close_code;

bool close_state::begin(close_code code, clock::time_point deadline) {
  if (!answer(deadline)) return false;
  code_ = static_cast<std::uint16_t>(code);
  server_began_ = !peer_closed_;
  return true;
}

close_code close_state::on_peer_close(std::uint16_t code) {
  peer_closed_ = true;
  code_ = code;
  return code == static_cast<std::uint16_t>(close_code::no_status) ? close_code::normal
                                                                   : close_code{code};
}

bool close_state::answer(clock::time_point deadline) {
  if (closing_ || finished_) return false;
  closing_ = true;
  deadline_ = deadline;
  return true;
}

void close_state::defer(close_code reply, clock::time_point deadline) {
  deferred_ = static_cast<std::uint16_t>(reply);
  deadline_ = deadline;
}

close_code close_state::take_deferred() {
  return close_code{std::exchange(deferred_, 0)};
}

bool close_state::finish() {
  return !std::exchange(finished_, true);
}

}  // namespace parley::net

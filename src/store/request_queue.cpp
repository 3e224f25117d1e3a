#include "request_queue.hpp"

#include <algorithm>
#include <iterator>

namespace parley::store {

void request_queue::submit(request r) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() - head_ < max_queued && !stopping_) {
      queue_.push_back(std::move(r));
      ++queued_total_;
      if (queue_.size() - head_ == 1) wake_.notify_one();
      return;
    }
  }
  const store_client& c = client_of(r);
  std::optional<std::string> cid;
  if (auto* s = std::get_if<send_request>(&r)) cid = s->message.cid;
  reply_error(c, error_code::unavailable, cid, "the store is overloaded; retry with the same cid");
  c.self->store_done();
}

bool request_queue::take(std::vector<request>& taken, std::chrono::milliseconds idle,
                         std::size_t max) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, idle, [&] { return queue_.size() > head_ || stopping_; });
  if (queue_.size() == head_ && stopping_) return false;
  std::size_t n = std::min(max, queue_.size() - head_);
  if (head_ == 0 && n == queue_.size()) {
    taken.swap(queue_);  // the common case: everything, without moving a request
  } else {
    auto first = queue_.begin() + static_cast<std::ptrdiff_t>(head_);
    taken.insert(taken.end(), std::make_move_iterator(first),
                 std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n)));
    head_ += n;
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    }
  }
  return true;
}

void request_queue::answered(std::size_t n) {
  {
    std::lock_guard lock(mutex_);
    answered_total_ += n;
  }
  progressed_.notify_all();
}

void request_queue::flush(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  std::uint64_t target = queued_total_;
  progressed_.wait_for(lock, limit, [&] { return answered_total_ >= target; });
}

void request_queue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

}  // namespace parley::store

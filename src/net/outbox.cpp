#include "parley/net/outbox.hpp"

namespace parley::net {

// Under the soft limit the clock stops; over it, it starts now unless push() started it.
outbox::verdict outbox::check(clock::time_point now, const server_config& config) {
  if (bytes_ <= config.outbox_soft_bytes) {
    over_soft_since_ = never;
    return verdict::within;
  }
  if (over_soft_since_ == never) over_soft_since_ = now;
  if (now - over_soft_since_ > seconds_setting(config.outbox_soft_seconds)) {
    return verdict::soft_too_long;
  }
  return verdict::within;
}

void outbox::gather(gathered_buffers& buffers) const {
  for (std::size_t i = head_; i < frames_.size() && buffers.size() < buffers.capacity(); ++i) {
    std::string_view bytes = frames_[i]->bytes();
    if (i == head_) bytes.remove_prefix(head_written_);
    buffers.emplace_back(bytes.data(), bytes.size());
  }
}

// Frames fully written are released at once (their memory may be shared by many outboxes).
// Their slots go once they are half the queue: a reader that never quite catches up keeps a
// queue the size of its backlog, not of its history (and head_ stays far below 2^32).
void outbox::written(std::size_t bytes) {
  bytes_ -= bytes;
  while (bytes > 0) {
    std::size_t rest = frames_[head_]->size() - head_written_;
    if (bytes < rest) {
      head_written_ += static_cast<std::uint32_t>(bytes);
      break;
    }
    bytes -= rest;
    frames_[head_++].reset();
    head_written_ = 0;
  }
  if (head_ >= reclaim_after && 2 * std::size_t{head_} >= frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + head_);
    head_ = 0;
  }
}

void outbox::drop_unsent() {
  std::size_t keep = std::size_t{head_} + (head_written_ > 0 ? 1 : 0);
  for (std::size_t i = keep; i < frames_.size(); ++i)
    bytes_ -= frames_[i]->size();
  frames_.resize(keep);
}

// A burst may have grown the vector far past its inline two: that memory goes back.
void outbox::clear() {
  frames_.clear();
  if (frames_.capacity() > 256) frames_.shrink_to_fit();
  head_ = head_written_ = bytes_ = 0;
  over_soft_since_ = never;
}

}  // namespace parley::net

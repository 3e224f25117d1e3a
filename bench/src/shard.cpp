#include "shard.hpp"

namespace parley::bench {

shard::shard(run_env& env, worker& w, std::size_t first, std::size_t count)
    : env_(env), worker_(w), first_(first) {
  conns_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    conns_.push_back(std::make_unique<client_connection>(
        w, *this, static_cast<std::uint32_t>(first + i), env.client_id(first + i),
        env.target_for(first + i), env.opts.read_buffer));
  }
}

void shard::post_connect_all(std::size_t concurrency) {
  worker_.post([this, concurrency] {
    pacing_ = true;
    for (std::size_t i = 0; i < concurrency && next_connect_ < conns_.size(); ++i)
      connect_next();
  });
}

void shard::connect_next() {
  if (!pacing_ || next_connect_ >= conns_.size() || closing_all_) return;
  std::size_t const i = next_connect_++;
  conns_[i]->open(env_.source_for(first_ + i));
}

void shard::post_close_all() {
  worker_.post([this] {
    closing_all_ = true;
    for (auto& c : conns_)
      c->send_close();
    worker_.flush_dirty();
  });
}

void shard::on_welcome(client_connection& c) {
  opened.add();
  welcomed(c);
  connect_next();
}

void shard::on_closed(client_connection& c, bool was_open, std::string_view reason) {
  if (!was_open) {
    failed.add();
    if (first_failure.empty()) first_failure = std::string(c.id()) + ": " + std::string(reason);
    connect_next();
    return;
  }
  closed.add();
  if (!closing_all_) {
    unexpected.add();
    if (first_failure.empty())
      first_failure = std::string(c.id()) + " closed: " + std::string(reason);
  }
}

}  // namespace parley::bench

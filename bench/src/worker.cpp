#include "worker.hpp"

#include "client_connection.hpp"

namespace parley::bench {

worker::worker(std::size_t max_connections) {
  dirty_.reserve(max_connections + 1);
}

worker::~worker() {
  stop();
}

void worker::start() {
  guard_.emplace(ioc_.get_executor());
  thread_ = std::thread([this] { ioc_.run(); });
}

void worker::stop() {
  guard_.reset();
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

void worker::mark_dirty(client_connection& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_.push_back(&c);
}

void worker::flush_dirty() {
  // Bounded: flush() never marks a connection dirty again.
  for (client_connection* c : dirty_) {
    c->dirty = false;
    c->flush();
  }
  dirty_.clear();
}

}  // namespace parley::bench

#include "parley/store/postgres_store.hpp"

#include <spdlog/spdlog.h>

#include <functional>

#include "postgres_schema.hpp"
#include "postgres_worker.hpp"

namespace parley::store {

// ---- the public face

postgres_store::postgres_store(const store_config& config, core::router& router) {
  try {
    for (std::size_t i = 0; i < config.postgres_pool; ++i)
      workers_.push_back(std::make_unique<worker>(config, router, stats_, i == 0));
    epoch_ = migrate_postgres(workers_.front()->connection());
    for (auto& w : workers_)
      w->start();
  } catch (const std::runtime_error& e) {
    // pg_error (unreachable, refused, bad URL), or migrate's refusal of a newer schema
    throw std::runtime_error("store postgres: " + std::string(e.what()));
  }
  spdlog::info("store: postgres, {} connections, epoch {}", workers_.size(), epoch_);
}

postgres_store::~postgres_store() = default;

// A connection's requests all go to one worker: answered in the order made.
postgres_store::worker& postgres_store::worker_for(const core::store_client& c) {
  return *workers_[std::hash<const void*>{}(c.self.get()) % workers_.size()];
}

std::string_view postgres_store::epoch() const {
  return epoch_;
}

// Down while any connection is: its share of the clients would get `unavailable`.
core::store_health postgres_store::health() const {
  for (const auto& w : workers_) {
    if (auto h = w->health(); !h.up) return h;
  }
  return {};
}

void postgres_store::send(core::store_client from, core::outgoing_message message) {
  worker_for(from).submit(send_request{std::move(from), std::move(message)});
}

void postgres_store::push_inbox(core::store_client to) {
  worker_for(to).submit(inbox_request{std::move(to)});
}

void postgres_store::read(core::store_client reader, std::string with, std::int64_t seq,
                          std::optional<std::string> cid) {
  worker_for(reader).submit(read_request{std::move(reader), std::move(with), seq, std::move(cid)});
}

void postgres_store::history(core::store_client asker, core::history_query query) {
  worker_for(asker).submit(history_request{std::move(asker), std::move(query)});
}

void postgres_store::conversations(core::store_client asker, core::conversations_query query) {
  worker_for(asker).submit(conversations_request{std::move(asker), std::move(query)});
}

// Each worker in turn, within what is left of `limit`.
void postgres_store::flush(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (auto& w : workers_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    w->flush(std::max(left, std::chrono::milliseconds(0)));
  }
}

const store_stats& postgres_store::stats() const {
  return stats_;
}

std::uint64_t postgres_store::syncs() const {
  return stats_.commits.load(std::memory_order_relaxed);
}

}  // namespace parley::store

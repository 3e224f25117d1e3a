#include "parley/store/sqlite_store.hpp"

#include <filesystem>

#include "counting_vfs.hpp"
#include "store_engine.hpp"

namespace parley::store {

// ---- the public face

sqlite_store::sqlite_store(const store_config& config, core::router& router) {
  try {
    engine_ = std::make_unique<engine>(config, router);
  } catch (const std::filesystem::filesystem_error& e) {
    throw std::runtime_error("store " + config.data_dir + ": " + e.what());
  } catch (const std::runtime_error& e) {
    // sqlite_error, or migrate()'s refusal of a database made by a newer Parley
    throw std::runtime_error("store " + config.data_dir + "/parley.db: " + e.what());
  }
}

sqlite_store::~sqlite_store() = default;

std::string_view sqlite_store::epoch() const {
  return engine_->epoch();
}

core::store_health sqlite_store::health() const {
  return engine_->health();
}

void sqlite_store::send(store_client from, core::outgoing_message message) {
  engine_->submit(send_request{std::move(from), std::move(message)});
}

void sqlite_store::push_inbox(store_client to) {
  engine_->submit(inbox_request{std::move(to)});
}

void sqlite_store::read(store_client reader, std::string with, std::int64_t seq,
                        std::optional<std::string> cid) {
  engine_->submit(read_request{std::move(reader), std::move(with), seq, std::move(cid)});
}

void sqlite_store::history(store_client asker, core::history_query query) {
  engine_->submit(history_request{std::move(asker), std::move(query)});
}

void sqlite_store::conversations(store_client asker, core::conversations_query query) {
  engine_->submit(conversations_request{std::move(asker), std::move(query)});
}

void sqlite_store::flush(std::chrono::milliseconds limit) {
  engine_->flush(limit);
}

const store_stats& sqlite_store::stats() const {
  return engine_->stats_;
}

std::uint64_t sqlite_store::syncs() const {
  return sync_count();
}

}  // namespace parley::store

#include "parley/store/durable_store.hpp"

#include "parley/store/postgres_store.hpp"
#include "parley/store/sqlite_store.hpp"

namespace parley::store {

std::unique_ptr<durable_store> open_store(const store_config& config, core::router& router) {
  if (config.kind == store_kind::postgres) return std::make_unique<postgres_store>(config, router);
  return std::make_unique<sqlite_store>(config, router);
}

}  // namespace parley::store

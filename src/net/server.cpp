#include "parley/net/server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <thread>

#include <unistd.h>

namespace parley::net {

namespace asio = boost::asio;

namespace {
unsigned thread_count(unsigned configured) {
  if (configured > 0) return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}
}  // namespace

server::server(server_config config)
    : config_(std::move(config)),
      bans_(config_.max_banned_ids),
      addresses_(config_),
      files_(config_.static_dir) {
  if (!config_.auth_secret.empty()) tokens_.emplace(config_.auth_secret);
  std::shared_ptr<const tls_context> tls;
  if (config_.tls()) {
    tls = std::make_shared<tls_context>(config_.tls_certificate_file, config_.tls_key_file);
  }
  config_.chat.max_text_bytes = config_.max_text_bytes;
  // Every node of a cluster shares one store; SQLite is a file per node. Refused before the
  // store is opened.
  if (config_.cluster.enabled() && config_.store.kind == store::store_kind::sqlite) {
    throw std::runtime_error(
        "--cluster-redis needs --store postgres or --store none: each node's SQLite file would "
        "hold a different history");
  }
  if (config_.store.enabled()) store_ = std::make_unique<store::sqlite_store>(config_.store, hub_);
  unsigned threads = thread_count(config_.threads);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<worker>(config_, hub_, store_.get(), tls));
  }
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(config_.host), config_.port);
  http_.emplace(http_context{files_, tokens_ ? &*tokens_ : nullptr,
                             std::chrono::steady_clock::now(), workers_, addresses_, store_.get(),
                             nullptr, refusal_log_, bans_});
  listener_ = std::make_unique<listener>(workers_, *http_, endpoint);
  if (auto admin = parse_listen_address(config_.admin_listen)) {
    http_->role = port_role::public_only;
    admin_http_.emplace(*http_);
    admin_http_->role = port_role::ops_only;
    admin_listener_ = std::make_unique<listener>(workers_, *admin_http_, *admin);
  }
  drain_timer_.emplace(workers_.front()->io());
  if (config_.cluster.enabled()) join_cluster();
}

// Before run(): no connection has used the hub yet. The node id defaults to the host name and
// the port bound (--port 0 included).
void server::join_cluster() {
  if (config_.cluster.node_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    config_.cluster.node_id = std::string(host) + ":" + std::to_string(local_endpoint().port());
  }
  cluster_ = std::make_unique<cluster::cluster_link>(config_.cluster, hub_);
  http_->cluster = cluster_.get();
  if (admin_http_) admin_http_->cluster = cluster_.get();
}

server::~server() {
  for (auto& w : workers_)
    w->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  store_.reset();  // its last answers are posted to the stopped workers, then dropped with them
}

std::optional<asio::ip::tcp::endpoint> server::admin_endpoint() const {
  if (!admin_listener_) return std::nullopt;
  return admin_listener_->local_endpoint();
}

void server::run() {
  listener_->start();
  if (admin_listener_) admin_listener_->start();
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    threads_.emplace_back([w = workers_[i].get()] { w->run(); });
  }
  workers_.front()->run();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
  for (auto& w : workers_)
    w->abandon_sessions();
}

void server::stop(double drain_seconds) {
  listener_->stop();
  if (admin_listener_) admin_listener_->stop();
  // Messages already read are committed and acked before the connections close.
  if (store_) store_->flush(std::chrono::milliseconds(static_cast<int>(drain_seconds * 500)));
  for (auto& w : workers_)
    w->post_close_all();
  auto deadline = std::chrono::steady_clock::now() + seconds_setting(drain_seconds);
  asio::post(workers_.front()->io(), [this, deadline] { drain(deadline); });
}

void server::reload(const server_config& next) {
  std::shared_ptr<const tls_context> tls;
  if (config_.tls() && next.tls()) {
    tls = std::make_shared<tls_context>(next.tls_certificate_file, next.tls_key_file);
  }
  addresses_.update(next);
  for (auto& w : workers_)
    w->post_reload(next, tls);
}

// Ends every loop once no WebSocket is left, or at the deadline. On the first worker's thread.
void server::drain(std::chrono::steady_clock::time_point deadline) {
  std::size_t open = 0;
  for (auto& w : workers_)
    open += w->session_count();
  if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
    for (auto& w : workers_)
      w->stop();
    return;
  }
  drain_timer_->expires_after(std::chrono::milliseconds(20));
  drain_timer_->async_wait([this, deadline](const boost::system::error_code& ec) {
    if (!ec) drain(deadline);
  });
}

}  // namespace parley::net

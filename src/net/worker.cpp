#include "parley/net/worker.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/post.hpp>

#include "parley/net/ws_session.hpp"

namespace parley::net {

namespace {
thread_local const worker* current_worker = nullptr;

// Size of the read buffer a worker's connections share: many frames per read call.
constexpr std::size_t read_buffer_bytes = 256 * 1024;

// The timer period: a quarter of the shortest deadline it drives, between 10 and 250 ms, so a
// deadline is noticed at most 25% late.
std::chrono::steady_clock::duration tick_period(const server_config& c) {
  double shortest =
      std::min({c.ping_interval_seconds > 0 ? c.ping_interval_seconds : 1.0,
                c.ping_timeout_seconds > 0 ? c.ping_timeout_seconds : 1.0,
                c.outbox_soft_seconds > 0 ? c.outbox_soft_seconds : 1.0, c.close_timeout_seconds});
  return seconds_setting(std::clamp(shortest / 4, 0.01, 0.25));
}
}  // namespace

worker::worker(const server_config& config, core::hub& hub, core::message_store* store,
               std::shared_ptr<const tls_context> tls)
    : config_(config),
      origins_(config.allowed_origins),
      proxies_(config.trusted_proxies),
      tls_(std::move(tls)),
      hub_(hub),
      store_(store),
      tick_timer_(io_),
      tick_period_(tick_period(config)),
      read_buffer_(read_buffer_bytes),
      parser_(protocol::request_limits{config.chat.max_watched_ids, store != nullptr}),
      ping_frame_(protocol::make_frame_copy(protocol::opcode::ping, {})) {}

worker::~worker() = default;

void worker::run() {
  current_worker = this;
  schedule_tick();
  poller_.start();
  // A handler that throws (out of memory, a bug) must not take every connection down with it:
  // log it and go on serving; the loop ends only by stop().
  while (!io_.stopped()) {
    try {
      io_.run();
    } catch (const std::exception& e) {
      spdlog::error("worker: a handler failed: {}", e.what());
    }
  }
  current_worker = nullptr;
}

bool worker::on_this_thread() const noexcept {
  return current_worker == this;
}

void worker::add(ws_session& session) {
  sessions_.push_back(session);
  session_count_.fetch_add(1, std::memory_order_relaxed);
}

void worker::remove(ws_session& session) {
  if (!session.is_linked()) return;
  session.unlink();
  session_count_.fetch_sub(1, std::memory_order_relaxed);
}

void worker::schedule_tick() {
  tick_timer_.expires_after(tick_period_);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick();
    schedule_tick();
  });
}

void worker::tick() {
  auto now = std::chrono::steady_clock::now();
  // A session may unlink itself inside tick(): step past it first.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto session = (it++)->shared_self();
    session->tick(now);
  }
}

void worker::flush_soon(std::shared_ptr<ws_session> session) {
  to_flush_.push_back(std::move(session));
  if (flush_posted_ || poller_.dispatching()) return;  // the batch's end flushes
  flush_posted_ = true;
  boost::asio::post(io_, [this] { flush_all(); });
}

void worker::flush_all() {
  flush_posted_ = false;
  std::vector<std::shared_ptr<ws_session>> batch;
  batch.swap(to_flush_);
  for (auto& session : batch)
    session->flush();
  // Keep the vector's memory for the next turn.
  batch.clear();
  if (to_flush_.empty()) to_flush_.swap(batch);
}

void worker::post_to(std::shared_ptr<ws_session> session, protocol::shared_frame frame,
                     bool store_done) {
  bool first;
  {
    std::lock_guard lock(mailbox_mutex_);
    first = mailbox_.empty();
    mailbox_.push_back({std::move(session), std::move(frame), store_done});
  }
  if (first) boost::asio::post(io_, [this] { drain_mailbox(); });
}

void worker::drain_mailbox() {
  {
    std::lock_guard lock(mailbox_mutex_);
    delivering_.swap(mailbox_);
  }
  for (mail& m : delivering_)
    m.to->take_mail(std::move(m.frame), m.store_done);
  delivering_.clear();
}

void worker::abandon_sessions() {
  while (!sessions_.empty()) {
    auto session = sessions_.front().shared_self();
    session->abandon();
  }
}

void worker::post_reload(const server_config& next, std::shared_ptr<const tls_context> tls) {
  boost::asio::post(io_, [this, next, tls = std::move(tls)]() mutable {
    copy_reloadable(config_, next);
    origins_ = origin_policy(config_.allowed_origins);
    proxies_ = trusted_proxies(config_.trusted_proxies);  // checked when the flags were read
    if (tls) tls_ = std::move(tls);
    tick_period_ = tick_period(config_);
  });
}

void worker::post_close_all() {
  boost::asio::post(io_, [this] {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto session = (it++)->shared_self();
      session->close(protocol::close_code::going_away, "server shutting down");
    }
  });
}

}  // namespace parley::net

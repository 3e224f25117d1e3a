#include "parley/net/ws_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <boost/asio/post.hpp>
#include <utility>

#include "parley/core/clock.hpp"
#include "parley/core/log_event.hpp"
#include "parley/net/io_errors.hpp"

namespace parley::net {

namespace asio = boost::asio;
using protocol::close_code;

namespace {
// Reads per readiness event before the loop serves others: fairness under a flood.
constexpr int max_reads_per_event = 4;
// Growth of a partial frame's buffer per read when its size is not known yet.
constexpr std::size_t partial_read_bytes = 16 * 1024;

std::uint32_t steady_millis_low() {
  return static_cast<std::uint32_t>(core::steady_nanos() / 1'000'000);
}

void count_up(std::uint32_t& counter) {
  if (counter != UINT32_MAX) ++counter;
}

// Why the server closed a connection with `code`, for the log.
std::string_view cause_of(std::uint16_t code) {
  switch (close_code{code}) {
    case close_code::going_away:
      return "server shutting down";
    case close_code::protocol_error:
      return "protocol violation";
    case close_code::invalid_payload:
      return "invalid UTF-8";
    case close_code::policy_violation:
      return "over the message rate";
    case close_code::too_big:
      return "message too big";
    case close_code::ping_timeout:
      return "ping timeout";
    case close_code::token_expired:
      return "token expired";
    case close_code::too_slow:
      return "too slow";
    default:
      return "closed by the server";
  }
}

}  // namespace

ws_session::ws_session(worker& owner, transport stream, std::string id, std::string received,
                       std::string peer, ip_limits::slot address_slot,
                       std::optional<std::int64_t> token_expires_at)
    : worker_(owner),
      transport_(std::move(stream)),
      peer_(std::move(peer)),
      address_slot_(std::move(address_slot)),
      reader_({owner.config().max_text_bytes, owner.config().max_binary_bytes,
               owner.config().max_message_fragments}),
      chat_(owner.hub(), owner.store(), std::move(id), *this, owner.parser(), owner.config().chat,
            owner.stats()),
      partial_(std::move(received)),
      token_expires_at_(token_expires_at.value_or(no_expiry)) {}

ws_session::~ws_session() = default;

void ws_session::start() {
  boost::system::error_code ignored;
  transport_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  self_ = shared_from_this();
  worker_.add(*this);
  last_heard_ = last_ping_ = clock::now();
  opened_ms_ = steady_millis_low();
  worker_.stats().connections_opened.add();
  if (spdlog::should_log(spdlog::level::info)) {
    core::log_event("connect").text("id", chat_.id()).text("peer", peer_).log(spdlog::level::info);
  }
  chat_.open(weak_from_this());
  if (!partial_.empty()) {
    std::string received = std::move(partial_);
    partial_ = std::string();
    worker_.stamp_read();
    parse(received.data(), received.size());
  }
  if (finished_) return;
  // Registering reports bytes already in the socket; TLS may hold some of its own.
  int fd = transport_.detach();
  if (fd < 0 || !worker_.poller().add(fd, *this)) {
    return finish(static_cast<std::uint16_t>(close_code::internal_error), "cannot poll socket");
  }
  if (transport_.input_buffered()) read_soon(false);
}

void ws_session::deliver(protocol::shared_frame frame) {
  if (worker_.on_this_thread()) return enqueue(std::move(frame));
  worker_.post_to(shared_from_this(), std::move(frame), false);
}

void ws_session::store_done(protocol::shared_frame last) {
  if (!worker_.on_this_thread()) return worker_.post_to(shared_from_this(), std::move(last), true);
  take_mail(std::move(last), true);
}

void ws_session::take_mail(protocol::shared_frame frame, bool store_done) {
  if (frame) enqueue(std::move(frame));
  if (store_done) on_store_done();
}

void ws_session::on_store_done() {
  chat_.on_store_done();
  if (deferred_close_ != 0 && chat_.store_pending() == 0) {
    auto code = close_code{deferred_close_};
    deferred_close_ = 0;
    std::uint16_t received = close_code_;
    close(code, "");
    close_code_ = received;
  }
}

void ws_session::close_after_store(close_code reply) {
  deferred_close_ = static_cast<std::uint16_t>(reply);
  close_deadline_ = clock::now() + seconds_setting(worker_.config().close_timeout_seconds);
}

// ---- reading

void ws_session::on_ready(std::uint32_t events) {
  if (finished_) return;  // closed earlier in the same batch of events
  if ((events & EPOLLOUT) && waiting_writable_) {
    waiting_writable_ = false;
    flush();
    if (finished_) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    on_readable((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
  }
}

void ws_session::on_readable(bool to_the_end) {
  read_outcome last = read_outcome::nothing;
  for (int i = 0; i < max_reads_per_event && !finished_; ++i) {
    last = read_some();
    if (last == read_outcome::nothing || (last == read_outcome::partial && !to_the_end)) break;
  }
  if (finished_) return;
  if (transport_.output_pending()) schedule_flush();  // TLS answers of its own, e.g. key updates
  // Edge-triggered: bytes left unread (a flood, or TLS records decrypted ahead) get no new event.
  bool unread = last == read_outcome::filled || (to_the_end && last == read_outcome::partial);
  if (unread || transport_.input_buffered()) read_soon(to_the_end);
}

void ws_session::read_soon(bool to_the_end) {
  asio::post(worker_.io(), [self = shared_from_this(), to_the_end] {
    if (!self->finished_) self->on_readable(to_the_end);
  });
}

ws_session::read_outcome ws_session::read_some() {
  boost::system::error_code ec;
  bool discard = closing_ || reader_.stopped();
  std::size_t asked, n;
  bool into_partial = !partial_.empty() && !discard;
  std::size_t old = partial_.size();
  if (into_partial) {
    asked = std::max(reader_.next_frame_size(), old + partial_read_bytes) - old;
    partial_.resize(old + asked);
    n = transport_.read_some(asio::buffer(partial_.data() + old, asked), ec);
    partial_.resize(old + (ec ? 0 : n));
  } else {
    asked = worker_.read_buffer_size();
    n = transport_.read_some(asio::buffer(worker_.read_buffer(), asked), ec);
  }
  if (ec == asio::error::would_block) return read_outcome::nothing;
  if (ec) {
    finish(peer_closed_ || closing_ ? close_code_ : 1006, ec.message());
    return read_outcome::nothing;
  }
  heard(n);
  if (into_partial) {
    parse(partial_.data(), partial_.size());
  } else if (!discard) {
    parse(worker_.read_buffer(), n);
  }
  return n == asked ? read_outcome::filled : read_outcome::partial;
}

// `bytes` arrived: the clocks are read once for every message in them.
void ws_session::heard(std::size_t bytes) {
  last_heard_ = clock::time_point(std::chrono::nanoseconds(worker_.stamp_read().steady_ns));
  worker_.stats().bytes_in.add(bytes);
}

// Handles every complete frame in data[0, size) and keeps the rest in partial_.
void ws_session::parse(char* data, std::size_t size) {
  std::size_t used = reader_.consume(data, size, *this);
  if (auto failure = reader_.failure()) {
    partial_ = std::string();
    return close(*failure, "protocol violation");
  }
  if (reader_.closed()) {
    partial_ = std::string();
    return;
  }
  if (data == partial_.data()) {
    partial_.erase(0, used);
    if (partial_.empty()) partial_ = std::string();  // an idle connection keeps no buffer
  } else {
    partial_.assign(data + used, size - used);
  }
}

// Every message goes through here: ignored once closing, counted, handed to the chat, and the
// connection closed when the chat finds the client abusive.
template <typename Handle>
void ws_session::on_message(Handle handle) {
  if (closing_) return;
  worker_.stats().messages_in.add();
  count_up(messages_in_);
  handle();
  if (chat_.abusive()) close(close_code::policy_violation, "over the message rate");
}

void ws_session::on_text(std::string_view payload) {
  on_message([&] { chat_.on_text(payload, worker_.read_time()); });
}

void ws_session::on_text_too_large(std::size_t size) {
  on_message([&] { chat_.on_text_too_large(size, worker_.read_time()); });
}

void ws_session::on_binary(std::string_view payload) {
  on_message([&] { chat_.on_binary(payload, worker_.read_time()); });
}

void ws_session::on_ping(std::string_view payload) {
  enqueue(protocol::make_frame_copy(protocol::opcode::pong, payload));
}

void ws_session::on_pong() {}  // last_heard_ is set for every read

void ws_session::on_close(std::uint16_t code, std::string_view reason) {
  peer_closed_ = true;
  // Echo the peer's code (RFC 6455 section 5.5.1); a close without one is answered 1000.
  auto reply = code == static_cast<std::uint16_t>(close_code::no_status) ? close_code::normal
                                                                         : close_code{code};
  close_code_ = code;
  if (chat_.store_pending() > 0 && !closing_) return close_after_store(reply);
  close(reply, "");
  close_code_ = code;
}

// ---- writing

void ws_session::enqueue(protocol::shared_frame frame) {
  if (closing_ || finished_) return;
  outbox_bytes_ += frame->size();
  bool data = (static_cast<unsigned char>(frame->bytes().front()) & 0x08) == 0;  // not control
  outbox_.push_back(std::move(frame));
  worker_.stats().messages_out.add();
  if (data) count_up(messages_out_);
  worker_.stats().outbox_peak_bytes.raise_to(outbox_bytes_);
  const server_config& config = worker_.config();
  if (outbox_bytes_ > config.effective_max_outbox_bytes()) {
    core::log_event("slow_reader")
        .text("id", chat_.id())
        .text("peer", peer_)
        .number("unsent_bytes", static_cast<std::int64_t>(outbox_bytes_))
        .text("reason", "over --max-outbox-bytes")
        .log(spdlog::level::warn);
    drop_unsent();
    return close(close_code::too_slow, "too slow");
  }
  if (outbox_bytes_ > config.outbox_soft_bytes && over_soft_since_ == never) {
    over_soft_since_ = clock::now();
  }
  schedule_flush();
}

void ws_session::schedule_flush() {
  if (flush_pending_ || waiting_writable_) return;
  flush_pending_ = true;
  worker_.flush_soon(shared_from_this());
}

// Drops every queued frame not yet begun, so that a close frame goes out next.
void ws_session::drop_unsent() {
  std::size_t keep = outbox_head_ + (head_written_ > 0 ? 1 : 0);
  for (std::size_t i = keep; i < outbox_.size(); ++i)
    outbox_bytes_ -= outbox_[i]->size();
  outbox_.resize(keep);
}

void ws_session::flush() {
  flush_pending_ = false;
  if (finished_ || waiting_writable_) return;
  while (!outbox_empty() || transport_.output_pending()) {
    gathered_buffers buffers;
    for (std::size_t i = outbox_head_; i < outbox_.size() && buffers.size() < buffers.capacity();
         ++i) {
      std::string_view bytes = outbox_[i]->bytes();
      if (i == outbox_head_) bytes.remove_prefix(head_written_);
      buffers.emplace_back(bytes.data(), bytes.size());
    }
    boost::system::error_code ec;
    std::size_t n = transport_.write_some(buffers, ec);
    if (ec == asio::error::would_block) return wait_writable();
    if (ec) return finish(1006, ec.message());
    worker_.stats().bytes_out.add(n);
    outbox_written(n);
  }
  outbox_.clear();
  if (outbox_.capacity() > 256) outbox_.shrink_to_fit();
  outbox_head_ = head_written_ = 0;
  over_soft_since_ = never;
  if (!closing_) return;
  transport_.shutdown_send();
  // The handshake is complete once the peer closed too. Over TLS the peer still answers our
  // close_notify: its end arrives as EOF (or the close deadline passes), so it gets no reset.
  if (peer_closed_ && !transport_.secure()) return finish(close_code_, "closed by the client");
}

void ws_session::outbox_written(std::size_t bytes) {
  outbox_bytes_ -= bytes;
  while (bytes > 0) {
    std::size_t rest = outbox_[outbox_head_]->size() - head_written_;
    if (bytes < rest) {
      head_written_ += bytes;
      return;
    }
    bytes -= rest;
    outbox_[outbox_head_++].reset();
    head_written_ = 0;
  }
}

// The poller reports the room (EPOLLOUT) to on_ready.
void ws_session::wait_writable() {
  waiting_writable_ = true;
}

// ---- closing and deadlines

void ws_session::close(close_code code, std::string_view reason) {
  if (closing_ || finished_) return;
  closing_ = true;
  close_code_ = static_cast<std::uint16_t>(code);
  if (!peer_closed_) started_close_ = close_code_;
  chat_.close();  // partners learn now, not when the handshake ends
  auto frame = protocol::make_close_frame(code, reason);
  outbox_bytes_ += frame->size();
  outbox_.push_back(std::move(frame));
  close_deadline_ = clock::now() + seconds_setting(worker_.config().close_timeout_seconds);
  schedule_flush();
}

void ws_session::tick(clock::time_point now) {
  if (finished_) return;
  if (deferred_close_ != 0 && now >= close_deadline_) {
    std::uint16_t received = close_code_;
    close(close_code{std::exchange(deferred_close_, 0)}, "");
    close_code_ = received;
    return;
  }
  if (closing_) {
    if (now >= close_deadline_) finish(close_code_, "close handshake timed out");
    return;
  }
  if (token_expires_at_ != no_expiry && core::unix_millis() / 1000 > token_expires_at_) {
    return close(close_code::token_expired, "token expired");
  }
  check_outbox_limits(now);
  if (!closing_) check_liveness(now);
}

void ws_session::check_outbox_limits(clock::time_point now) {
  const server_config& config = worker_.config();
  if (outbox_bytes_ <= config.outbox_soft_bytes) {
    over_soft_since_ = never;
    return;
  }
  if (over_soft_since_ == never) over_soft_since_ = now;
  if (now - over_soft_since_ > seconds_setting(config.outbox_soft_seconds)) {
    core::log_event("slow_reader")
        .text("id", chat_.id())
        .text("peer", peer_)
        .number("unsent_bytes", static_cast<std::int64_t>(outbox_bytes_))
        .text("reason", "over --outbox-soft-bytes for --outbox-soft-seconds")
        .log(spdlog::level::warn);
    drop_unsent();
    close(close_code::too_slow, "too slow");
  }
}

void ws_session::check_liveness(clock::time_point now) {
  const server_config& config = worker_.config();
  if (config.ping_interval_seconds <= 0) return;
  if (unanswered_since_ != never && last_heard_ >= unanswered_since_) unanswered_since_ = never;
  if (unanswered_since_ != never &&
      now - unanswered_since_ >= seconds_setting(config.ping_timeout_seconds)) {
    // The peer is gone or frozen: a close frame is sent if the socket takes it, then dropped.
    drop_unsent();
    close(close_code::ping_timeout, "ping timeout");
    flush();
    return finish(static_cast<std::uint16_t>(close_code::ping_timeout), "ping timeout");
  }
  if (now - last_ping_ >= seconds_setting(config.ping_interval_seconds)) {
    last_ping_ = now;
    if (unanswered_since_ == never) unanswered_since_ = now;
    enqueue(worker_.ping_frame());
  }
}

void ws_session::count_close(std::uint16_t code) {
  core::counters& stats = worker_.stats();
  switch (code) {
    case 1000:
    case 1001:
      return stats.closes_normal.add();
    case static_cast<std::uint16_t>(close_code::too_slow):
      return stats.closes_slow_consumer.add();
    case static_cast<std::uint16_t>(close_code::ping_timeout):
      return stats.closes_ping_timeout.add();
    case 1006:
      return stats.closes_abnormal.add();
    default:
      return stats.closes_protocol.add();
  }
}

// One line per connection: how it ended, who began it and why, how long it lasted, and the
// messages it carried.
void ws_session::log_finish(std::uint16_t code, std::string_view why) const {
  if (!spdlog::should_log(spdlog::level::info)) return;
  std::string reason(why);
  std::string_view by = "network";  // no close frame from either side
  if (started_close_ != 0) {
    by = "server";
    reason = cause_of(started_close_);  // how the handshake then ended says little more
  } else if (peer_closed_) {
    by = "client";
  } else if (code != 1006) {
    by = "server";  // dropped at shutdown, or could not be polled
  }
  core::log_event("disconnect")
      .text("id", chat_.id())
      .text("peer", peer_)
      .number("code", code)
      .text("reason", reason)
      .text("by", by)
      .number("duration_ms", static_cast<std::uint32_t>(steady_millis_low() - opened_ms_))
      .number("messages_in", messages_in_)
      .number("messages_out", messages_out_)
      .log(spdlog::level::info);
}

void ws_session::finish(std::uint16_t code, std::string_view why) {
  if (finished_) return;
  finished_ = true;
  chat_.close();
  transport_.close();
  address_slot_ = {};  // with the socket, not when the last handler lets go of the session
  worker_.remove(*this);
  outbox_.clear();
  outbox_bytes_ = 0;
  partial_ = std::string();
  count_close(code);
  log_finish(code, why);
  // Callers up the stack may still use the session: it goes once their handler has returned.
  asio::post(worker_.io(), [self = std::move(self_)] {});
}

}  // namespace parley::net

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
                       peer_address peer, ip_limits::slot address_slot,
                       std::optional<std::int64_t> token_expires_at)
    : worker_(owner),
      transport_(std::move(stream)),
      peer_(peer),
      address_slot_(std::move(address_slot)),
      chat_(owner.chat_services(), std::move(id), *this),
      liveness_(token_expires_at) {
  if (!received.empty()) busy().partial = std::move(received);
}

ws_session::~ws_session() = default;

void ws_session::start() {
  boost::system::error_code ignored;
  transport_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  self_ = shared_self();
  worker_.add(*this);
  liveness_.start(clock::now());
  opened_ms_ = steady_millis_low();
  worker_.stats().connections_opened.add();
  if (spdlog::should_log(spdlog::level::info)) {
    core::log_event("connect")
        .text("id", chat_.id())
        .text("peer", peer_.text())
        .log(spdlog::level::info);
  }
  chat_.open();
  if (busy_ && !busy_->partial.empty()) {
    std::string received = std::exchange(busy_->partial, std::string());
    worker_.stamp_read();
    parse(received.data(), received.size());
  }
  if (close_.finished()) return;
  // Registering reports bytes already in the socket; TLS may hold some of its own.
  int fd = transport_.detach();
  if (fd < 0 || !worker_.poller().add(fd, *this)) {
    return finish(static_cast<std::uint16_t>(close_code::internal_error), "cannot poll socket");
  }
  if (transport_.input_buffered()) read_soon(false);
}

void ws_session::deliver(protocol::shared_frame frame) {
  if (worker_.on_this_thread()) return enqueue(std::move(frame));
  worker_.post_to(shared_self(), std::move(frame), false);
}

void ws_session::store_done(protocol::shared_frame last) {
  if (!worker_.on_this_thread()) return worker_.post_to(shared_self(), std::move(last), true);
  take_mail(std::move(last), true);
}

void ws_session::take_mail(protocol::shared_frame frame, bool store_done) {
  if (frame) enqueue(std::move(frame));
  if (store_done) on_store_done();
}

void ws_session::on_store_done() {
  chat_.on_store_done();
  if (close_.deferred() && chat_.store_pending() == 0) answer_close(close_.take_deferred());
}

void ws_session::close_after_store(close_code reply) {
  close_.defer(reply, close_deadline());
}

// ---- reading

void ws_session::on_ready(std::uint32_t events) {
  if (close_.finished()) return;  // closed earlier in the same batch of events
  if ((events & EPOLLOUT) && waiting_writable_) {
    waiting_writable_ = false;
    flush();
    if (close_.finished()) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    on_readable((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
  }
}

void ws_session::on_readable(bool to_the_end) {
  read_outcome last = read_outcome::nothing;
  for (int i = 0; i < max_reads_per_event && !close_.finished(); ++i) {
    last = read_some();
    if (last == read_outcome::nothing || (last == read_outcome::partial && !to_the_end)) break;
  }
  if (close_.finished()) return;
  if (transport_.output_pending()) schedule_flush();  // TLS answers of its own, e.g. key updates
  // Edge-triggered: bytes left unread (a flood, or TLS records decrypted ahead) get no new event.
  bool unread = last == read_outcome::filled || (to_the_end && last == read_outcome::partial);
  if (unread || transport_.input_buffered()) read_soon(to_the_end);
}

void ws_session::read_soon(bool to_the_end) {
  asio::post(worker_.io(), [self = shared_self(), to_the_end] {
    if (!self->close_.finished()) self->on_readable(to_the_end);
  });
}

ws_session::read_outcome ws_session::read_some() {
  boost::system::error_code ec;
  busy_state& b = busy();
  bool discard = close_.closing() || b.reader.stopped();
  std::size_t asked, n;
  bool into_partial = !b.partial.empty() && !discard;
  if (into_partial) {
    std::string& partial = b.partial;
    std::size_t old = partial.size();
    asked = std::max(b.reader.next_frame_size(), old + partial_read_bytes) - old;
    partial.resize(old + asked);
    n = transport_.read_some(asio::buffer(partial.data() + old, asked), ec);
    partial.resize(old + (ec ? 0 : n));
  } else {
    asked = worker_.read_buffer_size();
    n = transport_.read_some(asio::buffer(worker_.read_buffer(), asked), ec);
  }
  if (ec == asio::error::would_block) return read_outcome::nothing;
  if (ec) {
    finish(close_.code_if_dropped(), ec.message());
    return read_outcome::nothing;
  }
  heard(n);
  if (into_partial) {
    parse(b.partial.data(), b.partial.size());
  } else if (!discard) {
    parse(worker_.read_buffer(), n);
  }
  return n == asked ? read_outcome::filled : read_outcome::partial;
}

// `bytes` arrived: the clocks are read once for every message in them.
void ws_session::heard(std::size_t bytes) {
  liveness_.heard(clock::time_point(std::chrono::nanoseconds(worker_.stamp_read().steady_ns)));
  worker_.stats().bytes_in.add(bytes);
}

// Handles every complete frame in data[0, size) and keeps the rest in the busy state's partial.
void ws_session::parse(char* data, std::size_t size) {
  busy_state& b = busy();
  std::size_t used = b.reader.consume(data, size, *this);
  if (auto failure = b.reader.failure()) {
    b.partial = std::string();
    return close(*failure, "protocol violation");
  }
  if (b.reader.closed()) {
    b.partial = std::string();
    return;
  }
  if (data == b.partial.data()) {
    b.partial.erase(0, used);
    if (b.partial.empty()) b.partial = std::string();  // its read room goes back at once
  } else {
    b.partial.assign(data + used, size - used);
  }
}

// Every message goes through here: ignored once closing, counted, handed to the chat, and the
// connection closed when the chat finds the client abusive.
template <typename Handle>
void ws_session::on_message(Handle handle) {
  if (close_.closing()) return;
  worker_.stats().messages_in.add();
  messages_in_.fetch_add(1, std::memory_order_relaxed);
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

void ws_session::on_pong() {}  // liveness hears every read

void ws_session::on_close(std::uint16_t code, std::string_view reason) {
  close_code reply = close_.on_peer_close(code);
  if (chat_.store_pending() > 0 && !close_.closing()) return close_after_store(reply);
  answer_close(reply);
}

// ---- writing

void ws_session::enqueue(protocol::shared_frame frame) {
  if (!close_.open()) return;
  bool data = (static_cast<unsigned char>(frame->bytes().front()) & 0x08) == 0;  // not control
  outbox& frames = busy().frames;
  auto verdict = frames.push(std::move(frame), worker_.config());
  worker_.stats().messages_out.add();
  if (data) messages_out_.fetch_add(1, std::memory_order_relaxed);
  worker_.stats().outbox_peak_bytes.raise_to(frames.bytes());
  if (verdict == outbox::verdict::over_hard) return close_too_slow("over --max-outbox-bytes");
  if (verdict == outbox::verdict::soft_crossed) frames.over_soft_from(clock::now());
  schedule_flush();
}

void ws_session::schedule_flush() {
  if (flush_pending_ || waiting_writable_) return;
  flush_pending_ = true;
  worker_.flush_soon(shared_self());
}

void ws_session::flush() {
  flush_pending_ = false;
  if (close_.finished() || waiting_writable_) return;
  outbox* frames = busy_ ? &busy_->frames : nullptr;
  while ((frames && !frames->empty()) || transport_.output_pending()) {
    gathered_buffers buffers;
    if (frames) frames->gather(buffers);
    boost::system::error_code ec;
    std::size_t n = transport_.write_some(buffers, ec);
    if (ec == asio::error::would_block) return wait_writable();
    if (ec) return finish(1006, ec.message());
    worker_.stats().bytes_out.add(n);
    if (frames) frames->written(n);
  }
  if (frames) frames->clear();
  if (!close_.closing()) return;
  transport_.shutdown_send();
  // The handshake is complete once the peer closed too. Over TLS the peer still answers our
  // close_notify: its end arrives as EOF (or the close deadline passes), so it gets no reset.
  if (close_.peer_closed() && !transport_.secure()) {
    return finish(close_.code(), "closed by the client");
  }
}

ws_session::busy_state& ws_session::busy() {
  if (!busy_) busy_ = std::make_unique<busy_state>(worker_.reader_limits());
  return *busy_;
}

void ws_session::release_if_quiet() {
  if (busy_ && close_.open() && busy_->frames.empty() && busy_->partial.empty() &&
      busy_->reader.idle()) {
    busy_.reset();
  }
}

// The poller reports the room (EPOLLOUT) to on_ready.
void ws_session::wait_writable() {
  waiting_writable_ = true;
}

// ---- closing and deadlines

core::sink::description ws_session::describe() const {
  // Connected since: now, less how long it has been open (steady, so a clock step cannot lie).
  std::int64_t open_ms = static_cast<std::uint32_t>(steady_millis_low() - opened_ms_);
  return {peer_.text(), core::unix_millis() - open_ms, messages_in_.load(std::memory_order_relaxed),
          messages_out_.load(std::memory_order_relaxed)};
}

void ws_session::request_close(close_code code, std::string_view reason) {
  asio::post(worker_.io(), [self = shared_self(), code, reason = std::string(reason)] {
    self->close(code, reason);
  });
}

void ws_session::close(close_code code, std::string_view reason) {
  if (close_.begin(code, close_deadline())) send_close(code, reason);
}

void ws_session::answer_close(close_code reply) {
  if (close_.answer(close_deadline())) send_close(reply, "");
}

void ws_session::send_close(close_code code, std::string_view reason) {
  chat_.close();  // partners learn now, not when the handshake ends
  busy().frames.push_final(protocol::make_close_frame(code, reason));
  schedule_flush();
}

ws_session::clock::time_point ws_session::close_deadline() const {
  return clock::now() + seconds_setting(worker_.config().close_timeout_seconds);
}

void ws_session::tick(clock::time_point now) {
  if (close_.finished()) return;
  if (close_.deferred_due(now)) return answer_close(close_.take_deferred());
  if (close_.closing()) {
    if (close_.overdue(now)) finish(close_.code(), "close handshake timed out");
    return;
  }
  // The token is checked before the outbox, the pings after it. When the outbox closes the
  // connection, a ping answered here goes unsent: a closing connection is checked no more.
  auto alive = liveness_.check(now, worker_.config(), [] { return core::unix_millis() / 1000; });
  if (alive == liveness::verdict::token_expired) {
    return close(close_code::token_expired, "token expired");
  }
  if (check_outbox_limits(now)) return;
  if (alive == liveness::verdict::ping) return enqueue(worker_.ping_frame());
  if (alive == liveness::verdict::ping_timeout) return ping_timed_out();
  release_if_quiet();
}

bool ws_session::check_outbox_limits(clock::time_point now) {
  if (!busy_ || busy_->frames.check(now, worker_.config()) != outbox::verdict::soft_too_long) {
    return false;
  }
  close_too_slow("over --outbox-soft-bytes for --outbox-soft-seconds");
  return true;
}

// A slow reader: logged with the limit it passed; what is not begun is dropped, so that the
// close frame goes out next (4008).
void ws_session::close_too_slow(std::string_view limit) {
  core::log_event("slow_reader")
      .text("id", chat_.id())
      .text("peer", peer_.text())
      .number("unsent_bytes", static_cast<std::int64_t>(busy().frames.bytes()))
      .text("reason", limit)
      .log(spdlog::level::warn);
  busy().frames.drop_unsent();
  close(close_code::too_slow, "too slow");
}

// The peer is gone or frozen: a close frame is sent if the socket takes it, then dropped.
void ws_session::ping_timed_out() {
  if (busy_) busy_->frames.drop_unsent();
  close(close_code::ping_timeout, "ping timeout");
  flush();
  finish(static_cast<std::uint16_t>(close_code::ping_timeout), "ping timeout");
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
    case static_cast<std::uint16_t>(close_code::kicked):
      return stats.closes_kicked.add();
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
  if (close_.server_began()) {
    by = "server";
    reason = cause_of(close_.code());  // how the handshake then ended says little more
  } else if (close_.peer_closed()) {
    by = "client";
  } else if (code != 1006) {
    by = "server";  // dropped at shutdown, or could not be polled
  }
  core::log_event("disconnect")
      .text("id", chat_.id())
      .text("peer", peer_.text())
      .number("code", code)
      .text("reason", reason)
      .text("by", by)
      .number("duration_ms", static_cast<std::uint32_t>(steady_millis_low() - opened_ms_))
      .number("messages_in", messages_in_.load(std::memory_order_relaxed))
      .number("messages_out", messages_out_.load(std::memory_order_relaxed))
      .log(spdlog::level::info);
}

void ws_session::finish(std::uint16_t code, std::string_view why) {
  if (!close_.finish()) return;
  chat_.close();
  transport_.close();
  address_slot_ = {};  // with the socket, not when the last handler lets go of the session
  worker_.remove(*this);
  if (busy_) {  // kept: a reader may be running up the stack
    busy_->frames.clear();
    busy_->partial = std::string();
  }
  count_close(code);
  log_finish(code, why);
  // Callers up the stack may still use the session: it goes once their handler has returned.
  asio::post(worker_.io(), [self = std::move(self_)] {});
}

}  // namespace parley::net

#include "client_connection.hpp"

#include "json_scan.hpp"
#include "worker.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>

#include <cstring>
#include <random>

namespace parley::bench {
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
// Lets several source addresses share the ephemeral port range: the port is chosen at
// connect time, per 4-tuple, not at bind time (Linux IP_BIND_ADDRESS_NO_PORT).
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
using bind_no_port = net::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>;

std::uint32_t random_mask_key() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  std::uint32_t k = 0;
  while (k == 0)
    k = static_cast<std::uint32_t>(gen());
  return k;
}
}  // namespace

client_connection::client_connection(worker& w, connection_handler& h, std::uint32_t index,
                                     std::string id, server_target const& target,
                                     std::size_t read_buffer_bytes)
    : worker_(w),
      handler_(h),
      socket_(w.context()),
      target_(target),
      index_(index),
      mask_key_(random_mask_key()),
      id_(std::move(id)) {
  // A fixed key: the server only checks that it is 16 bytes of base64. Never offer compression.
  request_ = "GET /ws/" + id_ + " HTTP/1.1\r\nHost: " + target.host_header +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  rbuf_.resize(std::max<std::size_t>(read_buffer_bytes, 256));
}

void client_connection::open(net::ip::address const& source) {
  boost::system::error_code ec;
  tls_.reset();  // before its socket is replaced
  socket_ = tcp::socket(worker_.context());
  if (target_.tls) tls_ = std::make_unique<net::ssl::stream<tcp::socket&>>(socket_, *target_.tls);
  rlen_ = 0;
  pending_.clear();
  inflight_.clear();
  fragments_.clear();
  writing_ = close_sent_ = was_open_ = false;
  ++gen_;
  state_ = state::connecting;
  socket_.open(target_.endpoint.protocol(), ec);
  if (!ec && !source.is_unspecified()) {
    socket_.set_option(bind_no_port(true), ec);
    if (!ec) socket_.bind(tcp::endpoint(source, 0), ec);
  }
  if (ec) {
    worker_.post([this, ec] { finish("socket: " + ec.message()); });
    return;
  }
  socket_.async_connect(target_.endpoint, [this, g = gen_](boost::system::error_code ec) {
    if (g != gen_) return;
    if (ec) return finish("connect: " + ec.message());
    socket_.set_option(tcp::no_delay(true), ec);
    state_ = state::upgrading;
    if (!tls_) return write_upgrade();
    tls_->async_handshake(net::ssl::stream_base::client, [this, g](boost::system::error_code ec) {
      if (g != gen_) return;
      if (ec) return finish("tls handshake: " + ec.message());
      write_upgrade();
    });
  });
}

void client_connection::write_upgrade() {
  with_stream([this](auto& stream) {
    net::async_write(stream, net::buffer(request_),
                     [this, g = gen_](boost::system::error_code ec, std::size_t) {
                       if (g != gen_) return;
                       if (ec) return finish("upgrade write: " + ec.message());
                       start_read();
                     });
  });
}

char* client_connection::begin_text(std::size_t len) {
  std::size_t const at = append_client_header(pending_, ws_opcode::text, len, mask_key_);
  return pending_.data() + at;
}

void client_connection::end_text(char* payload, std::size_t len) {
  mask_payload(payload, len, mask_key_);
  worker_.mark_dirty(*this);
}

void client_connection::send_text(std::string_view payload) {
  char* p = begin_text(payload.size());
  std::memcpy(p, payload.data(), payload.size());
  end_text(p, payload.size());
}

void client_connection::queue_control(ws_opcode op, std::string_view payload) {
  append_client_frame(pending_, op, payload, mask_key_);
  worker_.mark_dirty(*this);
}

void client_connection::send_close() {
  if (close_sent_ || state_ == state::closed || state_ == state::idle) return;
  close_sent_ = true;
  if (state_ == state::open || state_ == state::waiting_welcome) {
    state_ = state::closing;
    queue_control(ws_opcode::close, std::string_view("\x03\xe8", 2));  // 1000, normal
  } else {
    abort();  // not upgraded yet: nothing to say, just drop the TCP connection
  }
}

void client_connection::flush() {
  if (writing_ || pending_.empty() || state_ == state::closed) return;
  std::swap(pending_, inflight_);
  writing_ = true;
  with_stream([this](auto& stream) {
    net::async_write(stream, net::buffer(inflight_),
                     [this, g = gen_](boost::system::error_code ec, std::size_t) {
                       if (g != gen_) return;  // a write of an earlier connection, already closed
                       writing_ = false;
                       inflight_.clear();
                       if (ec) {
                         // The read side reports the end; a failed write with an open read side
                         // still ends it.
                         if (state_ != state::closed) abort();
                         return;
                       }
                       flush();
                     });
  });
}

void client_connection::abort() {
  if (state_ == state::closed || state_ == state::idle) return;
  boost::system::error_code ignored;
  socket_.close(ignored);  // pending operations complete with operation_aborted
}

void client_connection::start_read() {
  if (rlen_ == rbuf_.size()) rbuf_.resize(rbuf_.size() * 2);
  with_stream([this](auto& stream) {
    stream.async_read_some(net::buffer(rbuf_.data() + rlen_, rbuf_.size() - rlen_),
                           [this, g = gen_](boost::system::error_code ec, std::size_t n) {
                             if (g == gen_) on_read(ec, n);
                           });
  });
}

void client_connection::on_read(boost::system::error_code ec, std::size_t n) {
  if (ec) {
    // After the close handshake the server drops the connection; over TLS it may do so
    // without a close_notify (stream_truncated).
    if ((ec == net::error::eof || ec == net::ssl::error::stream_truncated) && close_sent_)
      return finish("");
    if (ec == net::error::operation_aborted) return finish(close_sent_ ? "" : "aborted");
    return finish("read: " + ec.message());
  }
  rlen_ += n;
  bool ok = state_ == state::upgrading ? parse_upgrade() : true;
  if (ok && state_ != state::upgrading) ok = parse_frames();
  worker_.flush_dirty();
  if (ok) start_read();
}

bool client_connection::parse_upgrade() {
  std::string_view const data(rbuf_.data(), rlen_);
  std::size_t const end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (rlen_ > 16384) return finish("upgrade: response too long"), false;
    return true;
  }
  if (!data.starts_with("HTTP/1.1 101")) {
    std::string_view line = data.substr(0, data.find("\r\n"));
    return finish("upgrade refused: " + std::string(line)), false;
  }
  std::size_t const head = end + 4;
  std::memmove(rbuf_.data(), rbuf_.data() + head, rlen_ - head);
  rlen_ -= head;
  state_ = state::waiting_welcome;
  return true;
}

bool client_connection::parse_frames() {
  std::size_t off = 0;
  // Bounded by the bytes read: each complete frame consumes at least 2 of them.
  while (off < rlen_) {
    parse_result const r = parse_server_frame(std::string_view(rbuf_.data() + off, rlen_ - off));
    if (r.status == parse_status::protocol_error)
      return finish("protocol error from server"), false;
    if (r.status == parse_status::need_more) {
      if (r.needed > rbuf_.size()) {
        // Move the partial frame to the front first, then grow to fit it whole.
        std::memmove(rbuf_.data(), rbuf_.data() + off, rlen_ - off);
        rlen_ -= off;
        rbuf_.resize(r.needed);
        return true;
      }
      break;
    }
    if (!handle_frame(r.frame, r.consumed)) return false;
    off += r.consumed;
  }
  if (off > 0) {
    std::memmove(rbuf_.data(), rbuf_.data() + off, rlen_ - off);
    rlen_ -= off;
  }
  return true;
}

bool client_connection::handle_frame(server_frame const& f, std::size_t wire_bytes) {
  switch (f.opcode) {
    case ws_opcode::text:
    case ws_opcode::binary:
      if (!f.fin) {
        fragments_.assign(f.payload);
        return true;
      }
      if (f.opcode == ws_opcode::text) deliver_text(f.payload, wire_bytes);
      return state_ != state::closed;
    case ws_opcode::continuation:
      fragments_.append(f.payload);
      if (f.fin) {
        std::string whole;
        whole.swap(fragments_);
        deliver_text(whole, whole.size() + 2);
      }
      return state_ != state::closed;
    case ws_opcode::ping:
      queue_control(ws_opcode::pong, f.payload);
      return true;
    case ws_opcode::pong:
      return true;
    case ws_opcode::close:
      if (!close_sent_) {
        close_sent_ = true;
        state_ = state::closing;
        queue_control(ws_opcode::close,
                      f.payload.substr(0, std::min<std::size_t>(f.payload.size(), 2)));
      }
      return true;  // read on until the server drops the TCP connection
  }
  return finish("unknown opcode from server"), false;
}

void client_connection::deliver_text(std::string_view payload, std::size_t wire_bytes) {
  if (state_ == state::waiting_welcome) {
    if (find_string_field(payload, "\"type\"") == "welcome") {
      state_ = state::open;
      was_open_ = true;
      handler_.on_welcome(*this);
      return;
    }
  }
  handler_.on_text(*this, payload, wire_bytes);
}

void client_connection::finish(std::string_view reason) {
  if (state_ == state::closed || state_ == state::idle) return;
  state_ = state::closed;
  boost::system::error_code ignored;
  socket_.close(ignored);
  handler_.on_closed(*this, was_open_, reason);
}

}  // namespace parley::bench

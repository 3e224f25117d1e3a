#include "ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace parley::it {

using steady = std::chrono::steady_clock;

bool run_until(net::io_context& ioc, steady::time_point deadline,
               const std::function<bool()>& done) {
  while (!done()) {
    auto now = steady::now();
    if (now >= deadline) return done();
    if (ioc.stopped()) ioc.restart();
    if (ioc.run_one_for(deadline - now) == 0 && ioc.stopped()) {
      // No work at all: nothing can change until the deadline but the clock.
      ioc.restart();
      std::this_thread::sleep_for(std::min<steady::duration>(ms{5}, deadline - steady::now()));
    }
  }
  return true;
}

void run_for(net::io_context& ioc, ms duration) {
  run_until(ioc, steady::now() + duration, [] { return false; });
}

struct ws_client::state : std::enable_shared_from_this<ws_client::state> {
  explicit state(net::io_context& ioc) : ws(ioc) {}

  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buf;
  std::deque<ws_frame> frames;
  bool open = false;
  bool handshake_failed = false;
  bool closed = false;
  bool writing = false;
  beast::error_code close_ec;
  std::uint16_t close_code = 0;
  int pings = 0;
  std::string host;

  void read_loop() {
    ws.async_read(buf, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->closed = true;
        self->close_ec = ec;
        self->close_code = static_cast<std::uint16_t>(self->ws.reason().code);
        return;
      }
      self->frames.push_back({!self->ws.got_text(), beast::buffers_to_string(self->buf.data())});
      self->buf.consume(self->buf.size());
      self->read_loop();
    });
  }
};

ws_client::ws_client(net::io_context& ioc, std::uint16_t port)
    : ioc_(ioc), port_(port), s_(std::make_shared<state>(ioc)) {}

ws_client::~ws_client() {
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(s_->ws).socket();
  if (sock.is_open()) {
    sock.set_option(net::socket_base::linger(true, 0), ec);
    sock.close(ec);
  }
}

void ws_client::start(std::string target, headers extra) {
  auto s = s_;
  s->ws.read_message_max(256u << 20);
  s->ws.auto_fragment(false);
  s->ws.control_callback([w = std::weak_ptr<state>(s)](websocket::frame_type kind, auto) {
    if (auto p = w.lock(); p && kind == websocket::frame_type::ping) ++p->pings;
  });
  s->ws.set_option(websocket::stream_base::decorator([extra](websocket::request_type& req) {
    for (auto& [k, v] : extra)
      req.set(k, v);
  }));
  s->host = "127.0.0.1:" + std::to_string(port_);
  auto& lowest = beast::get_lowest_layer(s->ws);
  lowest.expires_after(default_wait);
  tcp::endpoint ep(net::ip::make_address_v4("127.0.0.1"), port_);
  lowest.async_connect(ep, [s, target = std::move(target)](beast::error_code ec) {
    if (ec) {
      s->handshake_failed = true;
      s->close_ec = ec;
      return;
    }
    beast::error_code ignored;
    beast::get_lowest_layer(s->ws).socket().set_option(tcp::no_delay(true), ignored);
    s->ws.async_handshake(s->host, target, [s](beast::error_code ec) {
      beast::get_lowest_layer(s->ws).expires_never();
      if (ec) {
        s->handshake_failed = true;
        s->close_ec = ec;
        return;
      }
      s->open = true;
      s->read_loop();
    });
  });
}

bool ws_client::wait_open(ms timeout) {
  run_until(ioc_, steady::now() + timeout, [&] { return s_->open || s_->handshake_failed; });
  return s_->open;
}

bool ws_client::is_open() const {
  return s_->open && !s_->closed;
}
bool ws_client::handshake_failed() const {
  return s_->handshake_failed;
}

json::object ws_client::connect(const std::string& path_id, const std::string& expect_id) {
  start("/ws/" + path_id);
  if (!wait_open())
    throw std::runtime_error("upgrade of /ws/" + path_id + " failed: " + s_->close_ec.message());
  auto welcome = read_json();
  const std::string id = expect_id.empty() ? path_id : expect_id;
  if (type_of(welcome) != "welcome" || str(welcome, "id") != id ||
      !welcome.contains("server_time") || !welcome.at("server_time").is_number())
    throw std::runtime_error("expected welcome for '" + id + "', got " + to_string(welcome));
  return welcome;
}

namespace {
void wait_write(net::io_context& ioc, bool& done, beast::error_code& result, ms timeout,
                const char* what) {
  if (!run_until(ioc, steady::now() + timeout, [&] { return done; }))
    throw std::runtime_error(std::string(what) + ": write did not finish in time");
  if (result) throw std::runtime_error(std::string(what) + ": " + result.message());
}
}  // namespace

void ws_client::send_text(std::string text, ms timeout) {
  auto s = s_;
  auto payload = std::make_shared<std::string>(std::move(text));
  auto done = std::make_shared<bool>(false);
  auto result = std::make_shared<beast::error_code>();
  s->ws.text(true);
  s->ws.async_write(net::buffer(*payload),
                    [s, payload, done, result](beast::error_code ec, std::size_t) {
                      *done = true;
                      *result = ec;
                    });
  wait_write(ioc_, *done, *result, timeout, "send_text");
}

void ws_client::send_json(const json::object& obj, ms timeout) {
  send_text(json::serialize(obj), timeout);
}

void ws_client::send_binary(std::string bytes, ms timeout) {
  auto s = s_;
  auto payload = std::make_shared<std::string>(std::move(bytes));
  auto done = std::make_shared<bool>(false);
  auto result = std::make_shared<beast::error_code>();
  s->ws.binary(true);
  s->ws.async_write(net::buffer(*payload),
                    [s, payload, done, result](beast::error_code ec, std::size_t) {
                      *done = true;
                      *result = ec;
                    });
  wait_write(ioc_, *done, *result, timeout, "send_binary");
}

std::optional<ws_frame> ws_client::next(ms timeout) {
  run_until(ioc_, steady::now() + timeout, [&] { return !s_->frames.empty() || s_->closed; });
  if (s_->frames.empty()) return std::nullopt;
  ws_frame f = std::move(s_->frames.front());
  s_->frames.pop_front();
  return f;
}

json::object ws_client::read_json(ms timeout) {
  auto f = next(timeout);
  if (!f) {
    if (s_->closed)
      throw std::runtime_error("expected a JSON frame, but the connection closed (code " +
                               std::to_string(s_->close_code) + ", " + s_->close_ec.message() +
                               ")");
    throw std::runtime_error("expected a JSON frame within " + std::to_string(timeout.count()) +
                             " ms, got nothing");
  }
  if (f->binary) throw std::runtime_error("expected a text frame, got a binary one");
  boost::system::error_code ec;
  auto v = json::parse(f->data, ec);
  if (ec || !v.is_object()) throw std::runtime_error("expected a JSON object, got: " + f->data);
  return v.as_object();
}

std::string ws_client::read_binary(ms timeout) {
  auto f = next(timeout);
  if (!f) throw std::runtime_error("expected a binary frame, got nothing");
  if (!f->binary) throw std::runtime_error("expected a binary frame, got text: " + f->data);
  return f->data;
}

void ws_client::expect_nothing(ms duration) {
  run_until(ioc_, steady::now() + duration, [&] { return !s_->frames.empty(); });
  if (!s_->frames.empty()) {
    const auto& f = s_->frames.front();
    ADD_FAILURE() << "expected no frame within " << duration.count() << " ms, got "
                  << (f.binary ? "a binary frame of " + std::to_string(f.data.size()) + " bytes"
                               : f.data);
  }
}

std::size_t ws_client::pending() const {
  return s_->frames.size();
}

bool ws_client::close(std::uint16_t code, ms timeout) {
  auto s = s_;
  auto done = std::make_shared<bool>(false);
  s->ws.async_close(websocket::close_reason(code), [s, done](beast::error_code) { *done = true; });
  // Done when the close handshake finished and the read loop has seen the server's close.
  return run_until(ioc_, steady::now() + timeout, [&] { return *done && s->closed; });
}

void ws_client::reset() {
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(s_->ws).socket();
  sock.set_option(net::socket_base::linger(true, 0), ec);
  sock.close(ec);
  s_->closed = true;
}

std::optional<std::uint16_t> ws_client::wait_closed(ms timeout) {
  if (!run_until(ioc_, steady::now() + timeout, [&] { return s_->closed; })) return std::nullopt;
  return s_->close_code;
}

bool ws_client::closed() const {
  return s_->closed;
}
std::uint16_t ws_client::close_code() const {
  return s_->close_code;
}
beast::error_code ws_client::close_error() const {
  return s_->close_ec;
}
int ws_client::pings_received() const {
  return s_->pings;
}

std::string type_of(const json::object& o) {
  return str(o, "type");
}

std::string str(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

bool has(const json::object& o, const char* key) {
  return o.contains(key);
}

std::string to_string(const json::object& o) {
  return json::serialize(o);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<ms>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace parley::it

#include "redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace parley::cluster {

namespace asio = boost::asio;

redis_address redis_address::parse(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) {
    throw std::invalid_argument("the Redis URL must look like redis://HOST:PORT");
  }
  std::string_view rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  redis_address address;
  auto colon = rest.rfind(':');
  address.host = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      throw std::invalid_argument("the Redis URL's port is not a port number: " +
                                  std::string(port));
    }
    address.port = static_cast<std::uint16_t>(value);
  }
  if (address.host.empty()) throw std::invalid_argument("the Redis URL names no host");
  return address;
}

// hiredis calls these with the redis_connection as privdata (ev.data) or as ac->data.
struct redis_connection::hooks {
  static redis_connection& of(void* p) { return *static_cast<redis_connection*>(p); }
  static void add_read(void* p) { of(p).watch(true); }
  static void del_read(void* p) { of(p).reading_ = false; }
  static void add_write(void* p) { of(p).watch(false); }
  static void del_write(void* p) { of(p).writing_ = false; }
  // The context is being freed: stop waiting on its socket, which hiredis closes itself.
  static void cleanup(void* p) {
    auto& c = of(p);
    c.reading_ = c.writing_ = false;
    ++c.generation_;
    if (c.socket_) {
      c.socket_->cancel();
      c.socket_->release();
      c.socket_.reset();
    }
    c.context_ = nullptr;
  }
  static void connected(const redisAsyncContext* ac, int status) {
    auto& c = of(ac->data);
    c.connect_timer_.cancel();
    if (status != REDIS_OK) return c.lost(ac->errstr);  // hiredis frees the context after this
    c.up_ = true;
    c.on_up_();
  }
  // hiredis calls this from redisAsyncFree too (close() has then cleared ac->data): a close of
  // our own is no loss to report.
  static void disconnected(const redisAsyncContext* ac, int status) {
    if (!ac->data) return;
    of(ac->data).lost(status == REDIS_OK ? "closed" : ac->errstr);
  }
  static void replied(redisAsyncContext*, void* reply, void* privdata) {
    std::unique_ptr<reply_handler> done(static_cast<reply_handler*>(privdata));
    (*done)(static_cast<const redisReply*>(reply));
  }
  // Subscription pushes: ["subscribe", channel, n] once, then ["message", channel, payload].
  static void pushed(redisAsyncContext* ac, void* reply, void* privdata) {
    auto* r = static_cast<const redisReply*>(reply);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
    auto& c = of(privdata);
    std::string_view kind(r->element[0]->str, r->element[0]->len);
    if (kind == "message") {
      c.on_message_(std::string_view(r->element[2]->str, r->element[2]->len));
    } else if (kind == "subscribe") {
      c.subscribed_();
    }
  }
};

redis_connection::redis_connection(asio::io_context& io, std::function<void()> on_up,
                                   std::function<void(std::string_view)> on_down)
    : io_(io), on_up_(std::move(on_up)), on_down_(std::move(on_down)), connect_timer_(io) {}

redis_connection::~redis_connection() {
  close();
}

void redis_connection::connect(const redis_address& to, std::chrono::milliseconds timeout) {
  close();
  redisAsyncContext* ac = redisAsyncConnect(to.host.c_str(), to.port);
  if (!ac) return lost("out of memory");
  if (ac->err) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    return lost(why);
  }
  context_ = ac;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = hooks::add_read;
  ac->ev.delRead = hooks::del_read;
  ac->ev.addWrite = hooks::add_write;
  ac->ev.delWrite = hooks::del_write;
  ac->ev.cleanup = hooks::cleanup;
  socket_.emplace(io_, ac->c.fd);
  redisAsyncSetConnectCallback(ac, hooks::connected);
  redisAsyncSetDisconnectCallback(ac, hooks::disconnected);
  watch(false);  // the socket turns writable when the connection is made
  connect_timer_.expires_after(timeout);
  connect_timer_.async_wait([this, generation = generation_](const boost::system::error_code& ec) {
    if (ec || generation != generation_ || up_ || !context_) return;
    close();
    lost("no answer within the connect timeout");
  });
}

void redis_connection::close() {
  connect_timer_.cancel();
  up_ = false;
  if (!context_) return;
  redisAsyncContext* ac = context_;
  // hiredis keeps a disconnect callback once set (setting it again fails) and calls it while
  // freeing a connected context: without data, hooks::disconnected ignores that call.
  ac->data = nullptr;
  // Pending replies are called with null; their handlers see the connection as lost.
  redisAsyncFree(ac);  // runs hooks::cleanup
}

void redis_connection::lost(std::string_view why) {
  up_ = false;
  on_down_(why);
}

void redis_connection::watch(bool read) {
  bool& waiting = read ? reading_ : writing_;
  if (waiting || !socket_) return;
  waiting = true;
  socket_->async_wait(
      read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
      [this, read, generation = generation_](const boost::system::error_code& ec) {
        if (ec) return;
        on_ready(read, generation);
      });
}

void redis_connection::on_ready(bool read, unsigned generation) {
  if (generation != generation_ || !context_) return;
  bool& waiting = read ? reading_ : writing_;
  if (!waiting) return;
  waiting = false;
  if (read) {
    redisAsyncHandleRead(context_);
  } else {
    redisAsyncHandleWrite(context_);
  }
  // hiredis asks again (add_read/add_write) while it wants more; a read wait stays armed as
  // long as the context lives, since replies and pushes can come at any time.
  if (generation == generation_ && context_ && read) watch(true);
}

void redis_connection::command(std::span<const std::string_view> words, reply_handler done) {
  if (!up_ || !context_) return done(nullptr);
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(words.size());
  lengths.reserve(words.size());
  for (std::string_view w : words) {
    argv.push_back(w.data());
    lengths.push_back(w.size());
  }
  auto* handler = new reply_handler(std::move(done));
  if (redisAsyncCommandArgv(context_, hooks::replied, handler, static_cast<int>(argv.size()),
                            argv.data(), lengths.data()) != REDIS_OK) {
    std::unique_ptr<reply_handler> owned(handler);
    (*owned)(nullptr);
  }
}

void redis_connection::subscribe(std::string_view channel, std::function<void()> subscribed,
                                 std::function<void(std::string_view)> on_message) {
  if (!up_ || !context_) return;
  subscribed_ = std::move(subscribed);
  on_message_ = std::move(on_message);
  const char* argv[] = {"SUBSCRIBE", channel.data()};
  std::size_t lengths[] = {9, channel.size()};
  redisAsyncCommandArgv(context_, hooks::pushed, this, 2, argv, lengths);
}

}  // namespace parley::cluster

#include "store_test.hpp"

#include <boost/json/parse.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace parley::it {

void store_test::SetUp() {
  std::vector<std::string> flags{"--store", "sqlite", "--data-dir", dir_.path()};
  auto extra = extra_flags();
  flags.insert(flags.end(), extra.begin(), extra.end());
  server_ = std::make_unique<server_process>(std::move(flags));
}

std::unique_ptr<ws_client> store_test::open(const std::string& id, json::object* welcome) {
  auto c = std::make_unique<ws_client>(ioc_, port());
  auto w = c->connect(id);
  EXPECT_FALSE(str(w, "epoch").empty()) << "welcome without an epoch: " << to_string(w);
  if (welcome) *welcome = std::move(w);
  return c;
}

std::unique_ptr<ws_client> store_test::connect(const std::string& id) {
  auto c = open(id);
  auto in = c->read_json();
  if (type_of(in) != "inbox" || integer(in, "count") != 0 || !in.contains("more") ||
      flag(in, "more"))
    throw std::runtime_error("expected an empty inbox for '" + id + "', got " + to_string(in));
  return c;
}

std::unique_ptr<raw_client> store_test::raw_connect(const std::string& id) {
  auto r = std::make_unique<raw_client>(port());
  auto resp = r->upgrade("/ws/" + id);
  if (resp.status != 101)
    throw std::runtime_error("raw upgrade of /ws/" + id + " got HTTP " +
                             std::to_string(resp.status));
  auto welcome = read_raw_json(*r);
  if (type_of(welcome) != "welcome") throw std::runtime_error("raw: no welcome for " + id);
  auto in = read_raw_json(*r);
  if (type_of(in) != "inbox" || integer(in, "count") != 0)
    throw std::runtime_error("raw: expected an empty inbox, got " + to_string(in));
  return r;
}

std::string file_frame(const json::object& header, const std::string& payload) {
  const std::string h = json::serialize(header);
  std::string f;
  f.push_back(static_cast<char>(h.size() >> 8));
  f.push_back(static_cast<char>(h.size() & 0xff));
  return f + h + payload;
}

namespace {

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) throw std::runtime_error("expected a JSON object, got: " + text);
  return v.as_object();
}

}  // namespace

chat_frame read_chat(ws_client& c, ms timeout) {
  auto f = c.next(timeout);
  if (!f)
    throw std::runtime_error("expected a frame within " + std::to_string(timeout.count()) +
                             " ms, got nothing");
  chat_frame out;
  out.binary = f->binary;
  if (!f->binary) {
    out.head = parse_object(f->data);
    return out;
  }
  if (f->data.size() < 2) throw std::runtime_error("binary frame shorter than 2 bytes");
  std::size_t h =
      (static_cast<unsigned char>(f->data[0]) << 8) | static_cast<unsigned char>(f->data[1]);
  if (2 + h > f->data.size()) throw std::runtime_error("binary header length past the end");
  out.head = parse_object(f->data.substr(2, h));
  out.payload = f->data.substr(2 + h);
  return out;
}

json::object read_raw_json(raw_client& r, ms timeout) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<ms>(deadline - steady::now());
    auto f = r.read_frame(std::max(left, ms{1}));
    if (!f) throw std::runtime_error("raw: expected a text frame, got nothing");
    if (f->opcode == 9 || f->opcode == 10) continue;  // a server ping (or pong)
    if (f->opcode != 1)
      throw std::runtime_error("raw: expected a text frame, got opcode " +
                               std::to_string(f->opcode));
    return parse_object(f->payload);
  }
}

inbox_push read_inbox(ws_client& c) {
  inbox_push out;
  for (;;) {
    auto f = read_chat(c);
    if (!f.binary && type_of(f.head) == "inbox") {
      out.inbox = std::move(f.head);
      return out;
    }
    out.frames.push_back(std::move(f));
    if (out.frames.size() > 100000) throw std::runtime_error("inbox push without end");
  }
}

std::int64_t integer(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return -1;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
  return -1;
}

bool flag(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}

json::object read_ack(ws_client& c, const std::string& cid) {
  auto ack = c.read_json();
  EXPECT_EQ(type_of(ack), "ack") << to_string(ack);
  EXPECT_EQ(str(ack, "cid"), cid) << to_string(ack);
  EXPECT_FALSE(str(ack, "mid").empty()) << to_string(ack);
  EXPECT_GE(integer(ack, "seq"), 1) << to_string(ack);
  EXPECT_GE(integer(ack, "ts"), 0) << to_string(ack);
  return ack;
}

json::object send_text(ws_client& from, const std::string& to, const std::string& text,
                       const std::string& cid, const std::string& status) {
  from.send_json(obj({{"type", "msg"}, {"to", to}, {"text", text}, {"cid", cid}}));
  auto ack = read_ack(from, cid);
  EXPECT_EQ(str(ack, "status"), status) << to_string(ack);
  EXPECT_FALSE(flag(ack, "duplicate")) << to_string(ack);
  return ack;
}

json::object send_until_not_unavailable(ws_client& c, const json::object& msg, ms bound) {
  auto deadline = steady::now() + bound;
  for (;;) {
    c.send_json(msg);
    auto answer = c.read_json();
    if (type_of(answer) != "error" || str(answer, "code") != "unavailable" ||
        steady::now() >= deadline)
      return answer;
    run_for(c.context(), ms{100});
  }
}

void expect_error(ws_client& c, const std::string& code, const std::string& cid) {
  auto e = c.read_json();
  EXPECT_EQ(type_of(e), "error") << to_string(e);
  EXPECT_EQ(str(e, "code"), code) << to_string(e);
  EXPECT_EQ(str(e, "cid"), cid) << to_string(e);
}

void check_message(const chat_frame& f, const std::string& from, const std::string& to,
                   std::int64_t seq) {
  const auto& m = f.head;
  if (!f.binary) {
    EXPECT_EQ(type_of(m), "msg") << to_string(m);
  }
  EXPECT_EQ(str(m, "from"), from) << to_string(m);
  EXPECT_EQ(str(m, "to"), to) << to_string(m);
  EXPECT_EQ(integer(m, "seq"), seq) << to_string(m);
  EXPECT_FALSE(str(m, "mid").empty()) << to_string(m);
  EXPECT_GE(integer(m, "ts"), 0) << to_string(m);
  EXPECT_FALSE(has(m, "cid")) << "cid in a forwarded message: " << to_string(m);
}

void check_same_message(const chat_frame& f, const json::object& ack) {
  EXPECT_EQ(str(f.head, "mid"), str(ack, "mid")) << to_string(f.head);
  EXPECT_EQ(integer(f.head, "seq"), integer(ack, "seq")) << to_string(f.head);
  EXPECT_EQ(integer(f.head, "ts"), integer(ack, "ts")) << to_string(f.head);
}

history_reply history(ws_client& c, json::object request) {
  request["type"] = "history";
  c.send_json(request);
  history_reply out;
  for (;;) {
    auto f = read_chat(c);
    if (!f.binary && type_of(f.head) == "history") {
      out.reply = std::move(f.head);
      return out;
    }
    if (!f.binary && type_of(f.head) != "msg")
      throw std::runtime_error("expected history messages, got " + to_string(f.head));
    out.frames.push_back(std::move(f));
    if (out.frames.size() > 200) throw std::runtime_error("history sent over 200 messages");
  }
}

json::object conversations(ws_client& c, json::object request) {
  request["type"] = "conversations";
  c.send_json(request);
  auto answer = c.read_json();
  if (type_of(answer) != "conversations")
    throw std::runtime_error("expected a conversations answer, got " + to_string(answer));
  return answer;
}

std::vector<json::object> items_of(const json::object& answer) {
  std::vector<json::object> items;
  auto it = answer.find("items");
  if (it == answer.end() || !it->value().is_array()) {
    ADD_FAILURE() << "no items array: " << to_string(answer);
    return items;
  }
  for (const auto& v : it->value().as_array()) {
    EXPECT_TRUE(v.is_object()) << to_string(answer);
    if (v.is_object()) items.push_back(v.as_object());
  }
  return items;
}

void expect_receipt(ws_client& c, const std::string& with, std::int64_t seq,
                    const std::string& status) {
  std::int64_t last = 0;
  while (last < seq) {
    auto r = c.read_json();
    ASSERT_EQ(type_of(r), "receipt") << to_string(r);
    EXPECT_EQ(str(r, "with"), with) << to_string(r);
    EXPECT_EQ(str(r, "status"), status) << to_string(r);
    const auto s = integer(r, "seq");
    ASSERT_GT(s, last) << "receipt seqs must grow: " << to_string(r);
    ASSERT_LE(s, seq) << "receipt past the last message: " << to_string(r);
    last = s;
  }
}

http_response http_get(std::uint16_t port, const std::string& path) {
  raw_client r(port);
  return r.request("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

void set_file_size_limit(pid_t pid, rlim_t bytes) {
  rlimit now{};
  if (::prlimit(pid, RLIMIT_FSIZE, nullptr, &now) != 0)
    throw std::runtime_error(std::string("prlimit: ") + std::strerror(errno));
  now.rlim_cur = bytes;
  if (::prlimit(pid, RLIMIT_FSIZE, &now, nullptr) != 0)
    throw std::runtime_error(std::string("prlimit: ") + std::strerror(errno));
}

}  // namespace parley::it

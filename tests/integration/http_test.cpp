// HTTP beside the WebSocket endpoint: static files from --static-dir (a temporary folder made
// here), ETag/304, HEAD, keep-alive, 404/405, path traversal in every encoding, /healthz, and
// the deadline for an unfinished request.
#include "chat_test.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace parley::it {
namespace {

namespace fs = std::filesystem;

const std::string sentinel = "SENTINEL-OUTSIDE-THE-STATIC-DIR";

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

class http : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (peer_mode()) return;
    char tmpl[] = "/tmp/parley-it-static-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    // root/ holds files that must never be served; root/static/ is the static dir.
    write_file(root_ / "CMakeLists.txt", sentinel + " cmake\n");
    write_file(root_ / "secret.txt", sentinel + " secret\n");
    const fs::path s = root_ / "static";
    write_file(s / "index.html", "<!doctype html><title>Parley test</title><p>index</p>\n");
    write_file(s / "style.css", "body { color: red; }\n");
    write_file(s / "app.js", "console.log('hi');\n");
    write_file(s / "data.json", "{\"a\":1}\n");
    write_file(s / "pic.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    write_file(s / "notes.txt", "plain notes\n");
    write_file(s / "logo.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    write_file(s / "sub" / "page.html", "<p>sub page</p>\n");
    write_file(s / "with space.txt", "spaced\n");
    start_server({"--static-dir", (root_ / "static").string()});
  }
  static void TearDownTestSuite() {
    stop_server();
    if (!root_.empty()) fs::remove_all(root_);
  }
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }

  http_response fetch(const std::string& raw, bool head = false) {
    raw_client r(port());
    return r.request(raw, head);
  }

  static inline fs::path root_;
};

std::string content_type(const http_response& r) {
  auto ct = r.header("content-type");
  return ct.substr(0, ct.find(';'));
}

TEST_F(http, root_serves_index_html) {
  auto r = fetch(get("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(content_type(r), "text/html");
  EXPECT_EQ(r.body, "<!doctype html><title>Parley test</title><p>index</p>\n");
}

TEST_F(http, static_files_with_their_content_types) {
  struct {
    const char* path;
    std::vector<std::string> types;
  } cases[] = {
      {"/static/index.html", {"text/html"}},
      {"/static/style.css", {"text/css"}},
      {"/static/app.js", {"text/javascript", "application/javascript"}},
      {"/static/data.json", {"application/json"}},
      {"/static/pic.svg", {"image/svg+xml"}},
      {"/static/notes.txt", {"text/plain"}},
      {"/static/logo.png", {"image/png"}},
      {"/static/sub/page.html", {"text/html"}},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.path);
    auto r = fetch(get(c.path));
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(std::find(c.types.begin(), c.types.end(), content_type(r)), c.types.end())
        << "Content-Type: " << r.header("content-type");
    std::ifstream in(root_ / "static" / std::string(c.path).substr(8), std::ios::binary);
    std::string want((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(r.body == want) << "body differs from the file";
  }
}

TEST_F(http, percent_encoded_names_are_decoded) {
  auto r = fetch(get("/static/with%20space.txt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "spaced\n");
  r = fetch(get("/static/%6Eotes.txt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "plain notes\n");
}

TEST_F(http, etag_and_if_none_match_give_304) {
  auto r = fetch(get("/static/style.css"));
  ASSERT_EQ(r.status, 200);
  const std::string etag = r.header("etag");
  ASSERT_FALSE(etag.empty()) << "no ETag";
  auto again = fetch(get("/static/style.css", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("etag"), etag);
  auto other = fetch(get("/static/style.css", "If-None-Match: \"not-it\"\r\n"));
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, r.body);
  auto listed = fetch(get("/static/style.css", "If-None-Match: \"x\", " + etag + "\r\n"));
  EXPECT_EQ(listed.status, 304) << "an ETag in a list must match";
}

TEST_F(http, head_has_the_headers_and_no_body) {
  raw_client c(port());
  auto g = c.request(get("/static/app.js"));
  ASSERT_EQ(g.status, 200);
  auto h = c.request("HEAD /static/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", true);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("content-type"), g.header("content-type"));
  EXPECT_EQ(h.header("etag"), g.header("etag"));
  EXPECT_EQ(h.header("content-length"), std::to_string(g.body.size()));
  // If HEAD had sent a body, it would be read as the start of the next response.
  auto next = c.request(get("/static/notes.txt"));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "plain notes\n");
}

TEST_F(http, keep_alive_serves_several_requests_on_one_connection) {
  raw_client c(port());
  for (const char* p : {"/", "/static/style.css", "/healthz", "/static/nope.css", "/"}) {
    SCOPED_TRACE(p);
    auto r = c.request(get(p));
    EXPECT_TRUE(r.status == 200 || r.status == 404) << r.status;
    EXPECT_NE(r.header("connection"), "close");
  }
  // Two requests sent at once (pipelined) are both answered, in order.
  c.send(get("/static/notes.txt") + get("/static/data.json"));
  auto a = c.read_response();
  auto b = c.read_response();
  EXPECT_EQ(a.body, "plain notes\n");
  EXPECT_EQ(b.body, "{\"a\":1}\n");
}

TEST_F(http, edits_on_disk_show_on_reload) {
  const fs::path p = root_ / "static" / "live.txt";
  write_file(p, "version one\n");
  auto r1 = fetch(get("/static/live.txt"));
  EXPECT_EQ(r1.body, "version one\n");
  write_file(p, "version two, longer\n");
  auto r2 = fetch(get("/static/live.txt"));
  EXPECT_EQ(r2.body, "version two, longer\n");
  EXPECT_NE(r1.header("etag"), r2.header("etag"));
  auto r3 = fetch(get("/static/live.txt", "If-None-Match: " + r1.header("etag") + "\r\n"));
  EXPECT_EQ(r3.status, 200) << "stale ETag must not give 304";
}

TEST_F(http, unknown_paths_are_404) {
  for (const char* p : {"/nope", "/static/nope.js", "/index.htm", "/static/sub/nope.html",
                        "/staticx/index.html", "/favicon.ico"}) {
    SCOPED_TRACE(p);
    EXPECT_EQ(fetch(get(p)).status, 404);
  }
}

TEST_F(http, other_methods_are_405) {
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH"}) {
    for (const char* p : {"/", "/static/app.js", "/healthz"}) {
      SCOPED_TRACE(std::string(m) + " " + p);
      auto r = fetch(std::string(m) + " " + p +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello");
      EXPECT_EQ(r.status, 405);
    }
  }
}

TEST_F(http, path_traversal_never_escapes_the_static_dir) {
  const char* attempts[] = {
      "/static/../CMakeLists.txt",
      "/static/../secret.txt",
      "/static/%2e%2e/CMakeLists.txt",
      "/static/%2E%2E/secret.txt",
      "/static/.%2e/secret.txt",
      "/static/..%2fsecret.txt",
      "/static/..%2FCMakeLists.txt",
      "/static/%2e%2e%2fsecret.txt",
      "/static/..%2f..%2fsecret.txt",
      "/static/sub/../../secret.txt",
      "/static/sub/%2e%2e/%2e%2e/secret.txt",
      "/static/%252e%252e/secret.txt",
      "/static/%252e%252e%252fsecret.txt",
      "/static/..\\secret.txt",
      "/static/..%5csecret.txt",
      "/static/..%5Csecret.txt",
      "/static//etc/passwd",
      "/static/%2fetc%2fpasswd",
      "/static/../../../../../../../../etc/passwd",
      "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/static/..",
      "/static/%2e%2e",
      "/static/index.html%00.png",
      "/static/%c0%ae%c0%ae/secret.txt",
  };
  for (const char* a : attempts) {
    SCOPED_TRACE(a);
    http_response r;
    try {
      r = fetch(get(a));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no HTTP answer: " << e.what();
      continue;
    }
    EXPECT_TRUE(r.status == 404 || r.status == 400) << "status " << r.status;
    EXPECT_EQ(r.body.find(sentinel), std::string::npos) << "served a file outside the root";
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << "served /etc/passwd";
  }
  // Absolute-form and odd request targets.
  for (const char* t : {"/etc/passwd", "/static/..%00/secret.txt"}) {
    auto r = fetch(get(t));
    EXPECT_EQ(r.body.find("root:"), std::string::npos);
    EXPECT_EQ(r.body.find(sentinel), std::string::npos);
  }
  EXPECT_EQ(fetch(get("/static/sub/../notes.txt")).body.find(sentinel), std::string::npos);
  ASSERT_TRUE(server().running());
}

// Requests refused while they are read get their status, and the server goes on serving: these
// answers used to abort the whole process (a double free in http_session::send_error).
TEST_F(http, requests_refused_while_read_are_answered_and_the_server_lives_on) {
  struct refused {
    const char* name;
    std::string request;
    int status;
  };
  const std::vector<refused> cases = {
      {"headers over 8 KiB", get("/", "X-Big: " + std::string(9000, 'a') + "\r\n"), 431},
      {"body over the limit", "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 70000\r\n\r\n",
       413},
      {"not HTTP", "GARBAGE\x01 / HTTP/1.1\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(fetch(c.request).status, c.status);
    EXPECT_EQ(fetch(get("/")).status, 200);
  }
  EXPECT_TRUE(server().running());
}

// --max-http-header-count (100): a request with more fields is answered 431 and the connection
// closed, a page and an upgrade alike; the 8 KiB byte limit alone would let ~2000 tiny fields in.
TEST_F(http, more_than_100_header_fields_is_431_for_a_page_and_an_upgrade) {
  auto fields = [](int n) {
    std::string lines;
    for (int i = 0; i < n; ++i)
      lines += "X-Field-" + std::to_string(i) + ": v\r\n";
    return lines;
  };
  auto expect_431 = [](raw_client& r, const http_response& response) {
    EXPECT_EQ(response.status, 431);
    EXPECT_EQ(response.body, "too many request header fields\n");
    EXPECT_TRUE(r.wait_eof(ms{2000})) << "the connection stays open";
  };
  {
    raw_client r(port());  // get() sends Host: 1 + 99 fields
    EXPECT_EQ(r.request(get("/", fields(99))).status, 200);
    expect_431(r, r.request(get("/", fields(100))));
  }
  // raw_client::upgrade sends 5 fields: Host, Upgrade, Connection, Sec-WebSocket-Key/-Version.
  {
    raw_client r(port());
    EXPECT_EQ(r.upgrade("/ws/" + unique_id("hdr"), fields(95)).status, 101);
  }
  raw_client r(port());
  expect_431(r, r.upgrade("/ws/" + unique_id("hdr"), fields(96)));
}

TEST_F(http, healthz_reports_status_connections_and_uptime) {
  auto a = connect(unique_id("h")), b = connect(unique_id("h"));
  auto r = fetch(get("/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(content_type(r), "application/json");
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  ASSERT_TRUE(v.is_object()) << r.body;
  auto& o = v.as_object();
  EXPECT_TRUE(o.contains("status") && o.at("status").is_string()) << r.body;
  EXPECT_EQ(str(o, "status"), "ok") << r.body;
  ASSERT_TRUE(o.contains("connections") && o.at("connections").is_number()) << r.body;
  EXPECT_GE(o.at("connections").to_number<double>(), 2) << r.body;
  // "uptime" in the issue; a unit suffix in the name ("uptime_seconds") is accepted.
  const json::value* uptime = nullptr;
  for (auto& kv : o)
    if (kv.key().starts_with("uptime")) uptime = &kv.value();
  ASSERT_TRUE(uptime && uptime->is_number()) << "no numeric uptime: " << r.body;
  EXPECT_GE(uptime->to_number<double>(), 0) << r.body;
  auto h = fetch("HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", true);
  EXPECT_EQ(h.status, 200);
}

TEST(http_deadline, unfinished_requests_are_closed_after_the_handshake_timeout) {
  PARLEY_SKIP_ON_PEER();
  server_process s({"--handshake-timeout", "1"});
  struct attempt {
    const char* name;
    std::string bytes;
  };
  std::vector<attempt> attempts = {
      {"silent", ""},
      {"half request line", "GET /static/in"},
      {"headers not finished", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"},
      {"upgrade not finished",
       "GET /ws/slowpoke HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"},
      {"body not finished", "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nab"},
  };
  std::vector<std::unique_ptr<raw_client>> clients;
  auto t0 = steady::now();
  for (auto& a : attempts) {
    clients.push_back(std::make_unique<raw_client>(s.port()));
    if (!a.bytes.empty()) clients.back()->send(a.bytes);
  }
  // A finished WebSocket upgrade is not subject to the deadline.
  net::io_context ioc;
  ws_client ws(ioc, s.port());
  ws.connect("finished");
  for (std::size_t i = 0; i < clients.size(); ++i) {
    SCOPED_TRACE(attempts[i].name);
    EXPECT_TRUE(clients[i]->wait_eof(ms{4000})) << "still open 4 s later";
    double t = ms_since(t0);
    std::printf("[measure] unfinished request (%s) closed after %.0f ms (timeout 1 s)\n",
                attempts[i].name, t);
    EXPECT_GT(t, 700.0) << "closed too early";
  }
  ws.expect_nothing(ms{500});
  EXPECT_FALSE(ws.closed()) << "an open WebSocket was closed by the handshake timeout";
  ws.send_json(obj({{"type", "ping"}, {"cid", "z"}}));
  EXPECT_EQ(type_of(ws.read_json()), "pong");
}

}  // namespace
}  // namespace parley::it

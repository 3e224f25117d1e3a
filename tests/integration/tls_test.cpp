// HTTPS and WSS on one port (--tls-cert/--tls-key), with a certificate made for the suite by
// the openssl command. The client is Beast's WebSocket over Asio's SSL stream, which verifies
// the server's certificate against that one.
#include <signal.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "chat_test.hpp"

namespace parley::it {
namespace {

namespace ssl = net::ssl;
namespace http = beast::http;
using error_code = boost::system::error_code;
using tls_websocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// A self-signed certificate for localhost/127.0.0.1 and its key, in a fresh folder.
struct certificate_files {
  std::filesystem::path folder;
  std::filesystem::path certificate;
  std::filesystem::path key;

  certificate_files() {
    char pattern[] = "/tmp/parley-tls-XXXXXX";
    folder = ::mkdtemp(pattern);
    certificate = folder / "certificate.pem";
    key = folder / "key.pem";
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        key.string() + " -out " + certificate.string() + " 2>/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  }
  ~certificate_files() { std::filesystem::remove_all(folder); }
};

// Runs `start(handler)` on `ioc` and waits up to `timeout` for handler(error_code, ...).
template <typename Start>
error_code await(net::io_context& ioc, Start start, ms timeout = default_wait) {
  std::optional<error_code> result;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  auto deadline = steady::now() + timeout;
  while (!result && ioc.run_one_until(deadline)) {
  }
  if (!result) throw std::runtime_error("timed out");
  return *result;
}

class tls : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own flags
  static void SetUpTestSuite() {
    files_ = std::make_unique<certificate_files>();
    start_server({"--tls-cert", files_->certificate.string(), "--tls-key", files_->key.string(),
                  "--handshake-timeout", "1"});
  }
  static void TearDownTestSuite() {
    stop_server();
    files_.reset();
  }

  // A client context that trusts only the suite's certificate, TLS 1.2 and later.
  ssl::context client_context(int max_version = 0) {
    ssl::context context(ssl::context::tls_client);
    context.load_verify_file(files_->certificate.string());
    context.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_VERSION);
    if (max_version) SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
    return context;
  }

  // TCP connect + TLS handshake (certificate checked for "localhost").
  error_code open_tls(beast::ssl_stream<beast::tcp_stream>& stream) {
    tcp::endpoint server(net::ip::make_address("127.0.0.1"), port());
    if (auto ec =
            await(ioc_, [&](auto h) { beast::get_lowest_layer(stream).async_connect(server, h); }))
      return ec;
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(ssl::host_name_verification("localhost"));
    return await(ioc_, [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); });
  }

  // A WSS client of /ws/<id> that has read its welcome.
  std::unique_ptr<tls_websocket> connect_wss(const std::string& id) {
    auto ws = std::make_unique<tls_websocket>(ioc_, context_);
    if (auto ec = open_tls(ws->next_layer())) throw std::runtime_error("tls: " + ec.message());
    if (auto ec = await(ioc_, [&](auto h) { ws->async_handshake("localhost", "/ws/" + id, h); }))
      throw std::runtime_error("upgrade: " + ec.message());
    json::object welcome = read_json(*ws);
    EXPECT_EQ(welcome.at("type"), "welcome");
    return ws;
  }

  json::object read_json(tls_websocket& ws) {
    beast::flat_buffer buffer;
    if (auto ec = await(ioc_, [&](auto h) { ws.async_read(buffer, h); }))
      throw std::runtime_error("read: " + ec.message());
    return json::parse(beast::buffers_to_string(buffer.data())).as_object();
  }

  void write(tls_websocket& ws, const std::string& text, bool binary = false) {
    ws.binary(binary);
    auto ec = await(ioc_, [&](auto h) { ws.async_write(net::buffer(text), h); });
    ASSERT_FALSE(ec) << ec.message();
  }

  static inline std::unique_ptr<certificate_files> files_;
  ssl::context context_ = client_context();
};

TEST_F(tls, pages_and_health_are_served_over_https) {
  beast::ssl_stream<beast::tcp_stream> stream(ioc_, context_);
  ASSERT_FALSE(open_tls(stream));
  http::request<http::empty_body> request{http::verb::get, "/healthz", 11};
  request.set(http::field::host, "localhost");
  ASSERT_FALSE(await(ioc_, [&](auto h) { http::async_write(stream, request, h); }));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  ASSERT_FALSE(await(ioc_, [&](auto h) { http::async_read(stream, buffer, response, h); }));
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_NE(response.body().find("\"status\":\"ok\""), std::string::npos) << response.body();
  // Keep-alive: a second request on the same TLS connection.
  request.target("/static/chat.html");
  ASSERT_FALSE(await(ioc_, [&](auto h) { http::async_write(stream, request, h); }));
  http::response<http::string_body> page;
  ASSERT_FALSE(await(ioc_, [&](auto h) { http::async_read(stream, buffer, page, h); }));
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_NE(page.body().find("<html"), std::string::npos);
}

TEST_F(tls, two_wss_clients_chat_and_large_messages_cross_many_records) {
  const std::string a = unique_id("tls"), b = unique_id("tls");
  auto ws_a = connect_wss(a);
  auto ws_b = connect_wss(b);
  write(*ws_a, R"({"type":"msg","to":")" + b + R"(","text":"over TLS","cid":"c1"})");
  json::object got = read_json(*ws_b);
  EXPECT_EQ(got.at("type"), "msg");
  EXPECT_EQ(got.at("text"), "over TLS");
  EXPECT_EQ(read_json(*ws_a).at("type"), "ack");

  // 1 MiB binary: 64 TLS records each way, written by the server in pieces.
  std::string payload(1 << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i * 7 + 3);
  const std::string header = R"({"to":")" + b + R"(","cid":"c2"})";
  std::string frame{static_cast<char>(header.size() >> 8), static_cast<char>(header.size() & 0xff)};
  write(*ws_a, frame + header + payload, true);
  beast::flat_buffer buffer;
  ASSERT_FALSE(await(
      ioc_, [&](auto h) { ws_b->async_read(buffer, h); }, ms{10000}));
  EXPECT_TRUE(ws_b->got_binary());
  std::string received = beast::buffers_to_string(buffer.data());
  ASSERT_GT(received.size(), payload.size());
  EXPECT_TRUE(received.ends_with(payload));
  EXPECT_EQ(read_json(*ws_a).at("type"), "ack");

  // A clean close handshake; the partner hears `left`.
  auto closed = await(ioc_, [&](auto h) { ws_a->async_close(websocket::close_code::normal, h); });
  ASSERT_FALSE(closed) << closed.message();
  json::object left = read_json(*ws_b);
  EXPECT_EQ(left.at("type"), "left");
  EXPECT_EQ(left.at("id").as_string(), a);
}

TEST_F(tls, many_small_messages_in_one_burst_all_arrive_in_order) {
  const std::string a = unique_id("tls"), b = unique_id("tls");
  auto ws_a = connect_wss(a);
  auto ws_b = connect_wss(b);
  constexpr int count = 2000;
  for (int i = 0; i < count; ++i)
    write(*ws_a, R"({"type":"msg","to":")" + b + R"(","text":")" + std::to_string(i) + R"("})");
  for (int i = 0; i < count; ++i) {
    json::object got = read_json(*ws_b);
    ASSERT_EQ(got.at("text").as_string(), std::to_string(i));
  }
}

TEST_F(tls, versions_before_1_2_are_refused) {
  ssl::context old = client_context(TLS1_1_VERSION);
  SSL_CTX_set_security_level(old.native_handle(), 0);  // let the client offer TLS 1.1 at all
  beast::ssl_stream<beast::tcp_stream> stream(ioc_, old);
  EXPECT_TRUE(open_tls(stream));
  auto ws = connect_wss(unique_id("tls"));  // and the server goes on serving
}

TEST_F(tls, plain_http_and_garbage_on_the_tls_port_are_closed_and_harm_no_one) {
  {
    raw_client plain(port());
    auto response = plain.request("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(response.body.find("HTTPS"), std::string::npos) << response.body;
  }
  {
    raw_client garbage(port());
    garbage.send(std::string(4096, '\x16'));
    EXPECT_TRUE(garbage.wait_eof(ms{3000}));
  }
  auto ws = connect_wss(unique_id("tls"));
}

TEST_F(tls, a_client_that_never_finishes_the_tls_handshake_is_cut_at_the_deadline) {
  raw_client silent(port());
  auto start = steady::now();
  EXPECT_TRUE(silent.wait_eof(ms{5000}));
  EXPECT_LT(ms_since(start), 4000);  // --handshake-timeout 1
}

// SIGHUP loads the certificate and key again: new connections get the new pair, open ones keep
// theirs; a pair that cannot be used changes nothing.
class tls_reload : public tls {
 protected:
  static void SetUpTestSuite() {
    files_ = std::make_unique<certificate_files>();  // the first pair: context_ trusts it
    next_ = std::make_unique<certificate_files>();
    live_ = std::make_unique<certificate_files>();  // the paths the server reads
    put_in_place(*files_);
    start_server({"--tls-cert", live_->certificate.string(), "--tls-key", live_->key.string()});
  }
  static void TearDownTestSuite() {
    stop_server();
    files_.reset();
    next_.reset();
    live_.reset();
  }

  static void put_in_place(const certificate_files& pair) {
    using std::filesystem::copy_options;
    std::filesystem::copy_file(pair.certificate, live_->certificate,
                               copy_options::overwrite_existing);
    std::filesystem::copy_file(pair.key, live_->key, copy_options::overwrite_existing);
  }

  static void sighup(const std::string& outcome) {
    ASSERT_EQ(::kill(server().pid(), SIGHUP), 0);
    ASSERT_TRUE(server().wait_for_log(outcome, ms{5000})) << server().log();
  }

  // Whether a TLS handshake succeeds for a client that trusts only `certificate`.
  bool handshake_trusting(const std::filesystem::path& certificate) {
    ssl::context context(ssl::context::tls_client);
    context.load_verify_file(certificate.string());
    context.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc_, context);
    return !open_tls(stream);
  }

  static inline std::unique_ptr<certificate_files> next_, live_;
};

TEST_F(tls_reload, new_connections_get_the_new_pair_and_open_ones_stay) {
  auto before = connect_wss(unique_id("before"));
  EXPECT_TRUE(handshake_trusting(files_->certificate));

  put_in_place(*next_);
  sighup("reload: no setting changed; TLS certificate and key loaded again");
  EXPECT_TRUE(handshake_trusting(next_->certificate));
  EXPECT_FALSE(handshake_trusting(files_->certificate));
  write(*before, R"({"type":"ping","cid":"still"})");
  EXPECT_EQ(read_json(*before).at("type"), "pong");

  // A key of another pair: the reload fails, and the server goes on with the pair it has.
  std::filesystem::copy_file(files_->key, live_->key,
                             std::filesystem::copy_options::overwrite_existing);
  sighup("reload failed, the running configuration stays: TLS key " + live_->key.string() + ": ");
  EXPECT_TRUE(handshake_trusting(next_->certificate));
  write(*before, R"({"type":"ping","cid":"again"})");
  EXPECT_EQ(read_json(*before).at("type"), "pong");
}

TEST(tls_startup, a_missing_or_mismatched_certificate_stops_the_server_with_a_reason) {
  PARLEY_SKIP_ON_PEER();
  certificate_files one, other;
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--tls-cert", one.certificate.string(), "--tls-key", other.key.string()},
           {"--tls-cert", one.key.string(), "--tls-key", one.key.string()},
           {"--tls-cert", one.certificate.string()}}) {
    std::string command = std::string(PARLEY_BINARY) + " --port 0";
    for (const auto& f : flags)
      command += " " + f;
    command += " 2>&1";
    std::string output;
    int status = -1;
    if (FILE* out = ::popen(command.c_str(), "r")) {
      char buffer[512];
      while (std::fgets(buffer, sizeof buffer, out))
        output += buffer;
      status = ::pclose(out);
    }
    EXPECT_NE(status, 0) << command;
    EXPECT_EQ(output.find("listening on"), std::string::npos) << output;
  }
}

// TLS behind a PROXY v2 header (--trusted-proxies): the header comes first, in clear, then the
// TLS handshake, as HAProxy sends it with `send-proxy-v2 ssl`.
class tls_behind_proxy : public tls {
 protected:
  static void SetUpTestSuite() {
    files_ = std::make_unique<certificate_files>();
    start_server({"--tls-cert", files_->certificate.string(), "--tls-key", files_->key.string(),
                  "--trusted-proxies", "127.0.0.9", "--admin-token", "t0ken"});
  }

  // A GET over HTTPS; the response's body.
  std::string https_get(beast::ssl_stream<beast::tcp_stream>& stream, const std::string& target) {
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "localhost");
    request.set(http::field::authorization, "Bearer t0ken");
    if (await(ioc_, [&](auto h) { http::async_write(stream, request, h); }))
      throw std::runtime_error("write failed");
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (await(ioc_, [&](auto h) { http::async_read(stream, buffer, response, h); }))
      throw std::runtime_error("read failed");
    EXPECT_EQ(response.result_int(), 200) << response.body();
    return response.body();
  }
};

TEST_F(tls_behind_proxy, the_header_precedes_the_handshake_and_names_the_peer) {
  const std::string id = unique_id("tlsproxy");
  tls_websocket ws(ioc_, context_);
  auto& socket = beast::get_lowest_layer(ws).socket();
  socket.open(tcp::v4());
  socket.bind({net::ip::make_address("127.0.0.9"), 0});
  ASSERT_FALSE(await(ioc_, [&](auto h) {
    socket.async_connect({net::ip::make_address("127.0.0.1"), port()}, h);
  }));
  // PROXY, TCP over IPv4, 12 address bytes: 203.0.113.50:4242 -> 127.0.0.1:8000
  const std::string header = std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0C", 16) +
                             std::string("\xCB\x00\x71\x32\x7F\x00\x00\x01\x10\x92\x1F\x40", 12);
  ASSERT_FALSE(await(ioc_, [&](auto h) { net::async_write(socket, net::buffer(header), h); }));
  SSL_set_tlsext_host_name(ws.next_layer().native_handle(), "localhost");
  ASSERT_FALSE(
      await(ioc_, [&](auto h) { ws.next_layer().async_handshake(ssl::stream_base::client, h); }));
  ASSERT_FALSE(await(ioc_, [&](auto h) { ws.async_handshake("localhost", "/ws/" + id, h); }));
  EXPECT_EQ(read_json(ws).at("type"), "welcome");

  beast::ssl_stream<beast::tcp_stream> admin(ioc_, context_);  // from 127.0.0.1: no header
  ASSERT_FALSE(open_tls(admin));
  auto body = json::parse(https_get(admin, "/admin/api/connections?id=" + id)).as_object();
  auto& list = body.at("connections").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].as_object().at("peer").as_string(), "203.0.113.50:4242");
}

}  // namespace
}  // namespace parley::it

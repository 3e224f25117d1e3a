#include "store_metrics.hpp"

#include "run_env.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>
#include <chrono>
#include <regex>
#include <stdexcept>

namespace parley::bench {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t body_limit = 16 << 20;  // a /metrics page is a few KiB
constexpr double scrape_timeout_s = 2;        // a loopback GET takes a millisecond

// The GET itself; `body` is set on a 200 answer, `why` otherwise. The caller's io_context
// runs it to the end, so the references outlive it.
net::awaitable<void> get(beast::tcp_stream& stream, http_url const& url,
                         std::optional<std::string>& body, std::string& why) {
  if (auto [ec] = co_await stream.async_connect(url.endpoint, use_nothrow); ec) {
    why = "connect: " + ec.message();
    co_return;
  }
  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, url.host_header);
  req.set(http::field::connection, "close");
  if (auto [ec, n] = co_await http::async_write(stream, req, use_nothrow); ec) {
    why = "write: " + ec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow); ec) {
    why = "read: " + ec.message();
    co_return;
  }
  auto& res = parser.get();
  if (res.result() != http::status::ok) {
    why = "HTTP " + std::to_string(res.result_int());
    co_return;
  }
  body = std::move(res.body());
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The value of one sample line after its name ("{labels} 12 1700000000" or " 12"), or nullopt.
std::optional<double> sample_value(std::string_view rest) {
  if (rest.starts_with('{')) {
    std::size_t const close = rest.rfind('}');
    if (close == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(close + 1);
  } else if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) {
    return std::nullopt;  // another metric whose name starts with this one
  }
  rest = trim(rest);
  rest = rest.substr(0, rest.find_first_of(" \t"));  // a timestamp may follow
  double v = 0;
  auto const [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc{} || end != rest.data() + rest.size()) return std::nullopt;
  return v;
}

}  // namespace

http_url parse_http_url(std::string const& url) {
  static std::regex const re(R"(^http://(\[[^\]]+\]|[^:/\[\]]+)(?::(\d{1,5}))?(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, re))
    throw std::runtime_error("--metrics-url: expected http://HOST:PORT/PATH, not " + url);
  std::string host = m[1];
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto const a = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw std::runtime_error("--metrics-url: not an IP address: " + host);
  if (!a.is_loopback())
    throw std::runtime_error("--metrics-url: only loopback addresses are allowed: " + host);
  int const port = m[2].matched ? std::stoi(m[2]) : 80;
  if (port < 1 || port > 65535) throw std::runtime_error("--metrics-url: bad port in " + url);
  http_url u;
  u.endpoint = net::ip::tcp::endpoint(a, static_cast<std::uint16_t>(port));
  u.host_header.append(a.is_v6() ? "[" : "").append(a.to_string()).append(a.is_v6() ? "]:" : ":");
  u.host_header.append(std::to_string(port));
  u.target = m[3].matched ? std::string(m[3]) : "/metrics";
  u.text = url;
  return u;
}

std::optional<std::string> http_get(http_url const& url, double timeout_s, std::string& why) {
  net::io_context ioc{1};
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(timeout_s)));  // bounds the whole exchange
  std::optional<std::string> body;
  net::co_spawn(ioc, get(stream, url, body, why), [&why](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (std::exception const& x) {
      why = std::string("GET failed: ") + x.what();
    }
  });
  ioc.run();
  return body;
}

std::optional<double> prometheus_sum(std::string_view text, std::string_view name) {
  std::optional<double> total;
  // Bounded: each turn consumes one line.
  while (!text.empty()) {
    std::size_t const eol = text.find('\n');
    std::string_view const line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.starts_with(name)) continue;
    if (auto const v = sample_value(line.substr(name.size()))) total = total.value_or(0) + *v;
  }
  return total;
}

store_sample scrape_store(http_url const& url) {
  store_sample s;
  auto const body = http_get(url, scrape_timeout_s, s.failure);
  s.at_ns = now_ns();
  if (!body) return s;
  s.commits = prometheus_sum(*body, "parley_store_commits_total");
  s.syncs = prometheus_sum(*body, "parley_store_syncs_total");
  s.messages = prometheus_sum(*body, "parley_store_committed_messages_total");
  return s;
}

void add_store_rates(boost::json::object& report, http_url const& url, store_sample const& before,
                     store_sample const& after) {
  auto delta = [&](auto member) -> std::optional<double> {
    auto const& a = before.*member;
    auto const& b = after.*member;
    if (!a || !b) return std::nullopt;
    return *b - *a;
  };
  double const seconds = static_cast<double>(after.at_ns - before.at_ns) / 1e9;
  auto const commits = delta(&store_sample::commits);
  auto const syncs = delta(&store_sample::syncs);
  auto const messages = delta(&store_sample::messages);
  bool any = false;
  auto put = [&](char const* key, double v) {
    report[key] = v;
    any = true;
  };
  if (commits && seconds > 0) put("store_commits_per_s", *commits / seconds);
  if (syncs && seconds > 0) put("store_syncs_per_s", *syncs / seconds);
  if (commits && messages && *commits > 0) put("store_messages_per_commit", *messages / *commits);
  if (any) {
    report["store_metrics_url"] = url.text;
    return;
  }
  std::string why = !before.failure.empty() ? before.failure : after.failure;
  if (why.empty()) why = "no parley_store_* counters";
  report["store_metrics_missing"] = url.text + ": " + why;
}

}  // namespace parley::bench

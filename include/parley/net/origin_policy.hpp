#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace parley::net {

// Which browser pages may open a WebSocket (against cross-site WebSocket hijacking).
// A request without Origin (not a browser) always passes. A page from the server's own
// host:port always passes. With no list configured, pages from localhost, 127.0.0.1 and [::1]
// on any port pass too; "*" in the list lets every origin in; other entries are exact origins
// ("https://chat.example.com").
class origin_policy {
 public:
  explicit origin_policy(std::vector<std::string> allowed);

  // `origin`: the Origin header (empty when absent); `host`: the request's Host header.
  bool allows(std::string_view origin, std::string_view host) const;

 private:
  std::vector<std::string> allowed_;
  bool any_ = false;
};

}  // namespace parley::net

#include "parley/net/origin_policy.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>

namespace parley::net {

namespace {

// The authority of an origin "scheme://host[:port]", or empty when it has none.
std::string_view authority(std::string_view origin) {
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return {};
  return origin.substr(scheme_end + 3);
}

// The host of an authority, without port ("[::1]:80" -> "[::1]", "a.b:80" -> "a.b").
std::string_view host_part(std::string_view authority) {
  if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

bool is_loopback_host(std::string_view host) {
  return boost::beast::iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]";
}

}  // namespace

origin_policy::origin_policy(std::vector<std::string> allowed) : allowed_(std::move(allowed)) {
  any_ = std::find(allowed_.begin(), allowed_.end(), "*") != allowed_.end();
}

bool origin_policy::allows(std::string_view origin, std::string_view host) const {
  if (origin.empty() || any_) return true;
  std::string_view origin_authority = authority(origin);
  if (!origin_authority.empty() && boost::beast::iequals(origin_authority, host)) return true;
  if (allowed_.empty()) return is_loopback_host(host_part(origin_authority));
  return std::any_of(allowed_.begin(), allowed_.end(), [&](const std::string& entry) {
    return boost::beast::iequals(entry, origin);
  });
}

}  // namespace parley::net

#include "parley/core/auth_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <optional>

#include "parley/core/base64.hpp"

#include "parley/protocol/json_writer.hpp"

namespace parley::core {

namespace json = boost::json;

namespace {

std::string base64url_encode(std::string_view bytes) {
  std::string out = base64_encode(bytes);
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  for (char& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return std::nullopt;  // not base64url
  }
  std::size_t padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  std::string out(standard.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(standard.data()),
                          static_cast<int>(standard.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

std::optional<json::object> decode_object(std::string_view part) {
  auto text = base64url_decode(part);
  if (!text) return std::nullopt;
  json::error_code ec;
  json::value value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

std::optional<std::int64_t> seconds_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= INT64_MAX)
    return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double() && v->get_double() > -9e15 && v->get_double() < 9e15) {
    return static_cast<std::int64_t>(v->get_double());
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(token_error error) noexcept {
  switch (error) {
    case token_error::malformed:
      return "malformed token";
    case token_error::wrong_algorithm:
      return "token algorithm is not HS256";
    case token_error::bad_signature:
      return "bad token signature";
    case token_error::missing_claims:
      return "token lacks sub or exp";
    case token_error::expired:
      return "token expired";
    case token_error::not_yet_valid:
      return "token not yet valid";
  }
  return "bad token";
}

token_verifier::token_verifier(std::string secret, std::chrono::seconds skew)
    : secret_(std::move(secret)), skew_seconds_(skew.count()) {}

std::string token_verifier::sign(std::string_view signing_input) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &length);
  return std::string(reinterpret_cast<char*>(mac), length);
}

std::variant<token_claims, token_error> token_verifier::verify(std::string_view token,
                                                               std::int64_t now) const {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return token_error::malformed;
  }
  auto header = decode_object(token.substr(0, first));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !signature) return token_error::malformed;
  const json::value* alg = header->if_contains("alg");
  if (!alg || !alg->is_string() || alg->get_string() != "HS256") {
    return token_error::wrong_algorithm;
  }
  std::string expected = sign(token.substr(0, second));
  if (signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return token_error::bad_signature;
  }
  auto claims = decode_object(token.substr(first + 1, second - first - 1));
  if (!claims) return token_error::malformed;
  const json::value* sub = claims->if_contains("sub");
  auto exp = seconds_claim(*claims, "exp");
  if (!sub || !sub->is_string() || !exp) return token_error::missing_claims;
  if (now > accepted_until(*exp)) return token_error::expired;
  if (claims->contains("nbf")) {
    auto nbf = seconds_claim(*claims, "nbf");
    if (!nbf) return token_error::missing_claims;
    if (now < *nbf - skew_seconds_) return token_error::not_yet_valid;
  }
  return token_claims{std::string(sub->get_string()), *exp};
}

std::string token_verifier::mint(std::string_view subject, std::int64_t expires_at) const {
  std::string claims;
  protocol::json_writer writer(claims);
  writer.string_field("sub", subject).int_field("exp", expires_at);
  writer.finish();
  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token.push_back('.');
  token.append(base64url_encode(claims));
  std::string signature = base64url_encode(sign(token));
  token.push_back('.');
  token.append(signature);
  return token;
}

}  // namespace parley::core

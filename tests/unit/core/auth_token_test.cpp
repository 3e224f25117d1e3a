#include "parley/core/auth_token.hpp"

#include <gtest/gtest.h>

using parley::core::token_claims;
using parley::core::token_error;
using parley::core::token_verifier;

namespace {

constexpr std::int64_t now = 1'800'000'000;

token_error error_of(const std::variant<token_claims, token_error>& result) {
  EXPECT_TRUE(std::holds_alternative<token_error>(result));
  return std::holds_alternative<token_error>(result) ? std::get<token_error>(result)
                                                     : token_error::malformed;
}

TEST(auth_token, minted_token_verifies_with_its_claims) {
  token_verifier tokens("s3cret");
  auto result = tokens.verify(tokens.mint("1001", now + 60), now);
  ASSERT_TRUE(std::holds_alternative<token_claims>(result));
  EXPECT_EQ(std::get<token_claims>(result).subject, "1001");
  EXPECT_EQ(std::get<token_claims>(result).expires_at, now + 60);
}

// A token made with Python's hmac (RFC 7519 layout) for sub "1001", exp 1795648499, secret
// "s3cret": interoperates with other JWT libraries.
TEST(auth_token, verifies_a_token_made_elsewhere) {
  token_verifier tokens("s3cret");
  auto result = tokens.verify(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMDAxIiwiZXhwIjoxNzk1NjQ4NDk5fQ."
      "4FSk1KX7kFsyLd_JYdsMrmvZ7FP_es-kTwNNwlQ_8sk",
      1795648000);
  ASSERT_TRUE(std::holds_alternative<token_claims>(result));
  EXPECT_EQ(std::get<token_claims>(result).subject, "1001");
}

TEST(auth_token, wrong_secret_is_a_bad_signature) {
  std::string token = token_verifier("other").mint("1001", now + 60);
  EXPECT_EQ(error_of(token_verifier("s3cret").verify(token, now)), token_error::bad_signature);
}

TEST(auth_token, tampered_claims_are_a_bad_signature) {
  token_verifier tokens("s3cret");
  std::string token = tokens.mint("1001", now + 60);
  std::string other = tokens.mint("1002", now + 60);
  // Claims of one token with the signature of another.
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  std::string forged = token.substr(0, dot1) +
                       other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                       token.substr(dot2);
  EXPECT_EQ(error_of(tokens.verify(forged, now)), token_error::bad_signature);
}

TEST(auth_token, expiry_allows_thirty_seconds_of_skew) {
  token_verifier tokens("s3cret");
  std::string token = tokens.mint("1001", now);
  EXPECT_TRUE(std::holds_alternative<token_claims>(tokens.verify(token, now + 30)));
  EXPECT_EQ(error_of(tokens.verify(token, now + 31)), token_error::expired);
}

// An open connection is closed after accepted_until (ws_session), so it must be the very rule
// verify applies at the upgrade.
TEST(auth_token, accepted_until_is_the_last_second_verify_accepts) {
  token_verifier tokens("s3cret");
  std::string token = tokens.mint("1001", now);
  EXPECT_EQ(tokens.accepted_until(now), now + 30);
  EXPECT_TRUE(
      std::holds_alternative<token_claims>(tokens.verify(token, tokens.accepted_until(now))));
  EXPECT_EQ(error_of(tokens.verify(token, tokens.accepted_until(now) + 1)), token_error::expired);
}

TEST(auth_token, alg_none_and_garbage_are_refused) {
  token_verifier tokens("s3cret");
  // {"alg":"none"}.{"sub":"1001","exp":1900000000}.
  EXPECT_EQ(error_of(tokens.verify(
                "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMDAxIiwiZXhwIjoxOTAwMDAwMDAwfQ.", now)),
            token_error::wrong_algorithm);
  EXPECT_EQ(error_of(tokens.verify("", now)), token_error::malformed);
  EXPECT_EQ(error_of(tokens.verify("a.b", now)), token_error::malformed);
  EXPECT_EQ(error_of(tokens.verify("a.b.c.d", now)), token_error::malformed);
  EXPECT_EQ(error_of(tokens.verify("!!!.???.***", now)), token_error::malformed);
}

}  // namespace

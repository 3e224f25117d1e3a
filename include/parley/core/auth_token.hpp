#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace parley::core {

// The claims Parley reads from a verified token.
struct token_claims {
  std::string subject;      // `sub`: the client id the token proves
  std::int64_t expires_at;  // `exp`: Unix seconds
};

enum class token_error {
  malformed,        // not three base64url parts of JSON objects
  wrong_algorithm,  // header `alg` is not HS256
  bad_signature,
  missing_claims,  // no string `sub` or no numeric `exp`
  expired,         // past `exp` (plus the allowed skew)
  not_yet_valid,   // before `nbf` (minus the allowed skew)
};

std::string_view to_string(token_error error) noexcept;

// JWT (RFC 7519) with HS256 (HMAC-SHA-256, OpenSSL), the signature compared in constant time.
// `exp` is required, `nbf` optional; both are allowed `skew` of clock difference.
class token_verifier {
 public:
  explicit token_verifier(std::string secret, std::chrono::seconds skew = std::chrono::seconds(30));

  std::variant<token_claims, token_error> verify(std::string_view token,
                                                 std::int64_t now_seconds) const;
  // The last Unix second at which a token expiring at `expires_at` is accepted: its exp plus
  // the skew. The one expiry rule, for the upgrade (verify) and for an open connection alike.
  std::int64_t accepted_until(std::int64_t expires_at) const noexcept {
    return expires_at + skew_seconds_;
  }
  // A token for `subject` valid until `expires_at` (for `parley token` and tests).
  std::string mint(std::string_view subject, std::int64_t expires_at) const;

 private:
  std::string sign(std::string_view signing_input) const;
  std::string secret_;
  std::int64_t skew_seconds_;
};

}  // namespace parley::core

#pragma once
#include <string_view>

namespace parley::protocol {

// The `code` of an `error` frame (protocol.md).
enum class error_code {
  bad_json,      // not one JSON object
  bad_request,   // a missing or ill-typed field
  unknown_type,  // a `type` the server does not know
  too_large,     // a text message over --max-text-bytes
  rate_limited,
  offline,  // the recipient has no connection
  forbidden,
  unavailable,  // the store cannot write, or the recipient's node cannot be reached: retry
  inbox_full,   // the recipient holds --max-inbox-messages undelivered messages
};

std::string_view to_string(error_code code) noexcept;

}  // namespace parley::protocol

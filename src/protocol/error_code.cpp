#include "parley/protocol/error_code.hpp"

namespace parley::protocol {

std::string_view to_string(error_code code) noexcept {
  switch (code) {
    case error_code::bad_json:
      return "bad_json";
    case error_code::bad_request:
      return "bad_request";
    case error_code::unknown_type:
      return "unknown_type";
    case error_code::too_large:
      return "too_large";
    case error_code::rate_limited:
      return "rate_limited";
    case error_code::offline:
      return "offline";
    case error_code::forbidden:
      return "forbidden";
    case error_code::unavailable:
      return "unavailable";
    case error_code::inbox_full:
      return "inbox_full";
  }
  return "bad_request";
}

}  // namespace parley::protocol

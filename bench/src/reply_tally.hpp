#pragma once
// What the server answered the senders: acks by status (protocol v2: "delivered" when a
// connection of the recipient got the message, "stored" when none was online; version 1 acks
// are all "delivered"), repeated acks ("duplicate":true, which a run that never retries must
// not see), and error frames by code (e.g. "unavailable" while a store cannot write,
// "rate_limited"). Counted on one worker's thread; merged after the workers stopped.

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace parley::bench {

class reply_tally {
 public:
  // `payload` is an ack / error frame.
  void count_ack(std::string_view payload);
  void count_error(std::string_view payload);
  void merge(reply_tally const& other);

  std::uint64_t duplicate_acks() const { return duplicate_; }
  // {"delivered":N,"stored":N,"other":N}
  boost::json::object acks_by_status() const;
  // {"<code>":N, ...}; codes past the first 32 distinct ones are counted under "other".
  boost::json::object errors_by_code() const;

 private:
  static constexpr std::size_t max_codes = 32;  // the protocol has ten; bounds a wild server
  void add_code(std::string_view code, std::uint64_t n);

  std::uint64_t delivered_ = 0, stored_ = 0, other_status_ = 0, duplicate_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> errors_;
};

}  // namespace parley::bench

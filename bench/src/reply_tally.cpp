#include "reply_tally.hpp"

#include "json_scan.hpp"

namespace parley::bench {
namespace {
// Whether `"key": true` is in the frame (whitespace allowed around the colon).
bool has_true_field(std::string_view json, std::string_view quoted_key) {
  std::size_t const at = json.find(quoted_key);
  if (at == std::string_view::npos) return false;
  std::string_view rest = json.substr(at + quoted_key.size());
  auto skip_space = [&] {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t' || rest.front() == '\n'))
      rest.remove_prefix(1);
  };
  skip_space();
  if (!rest.starts_with(':')) return false;
  rest.remove_prefix(1);
  skip_space();
  return rest.starts_with("true");
}
}  // namespace

void reply_tally::count_ack(std::string_view payload) {
  std::string_view const status = find_string_field(payload, "\"status\"");
  if (status == "delivered") {
    ++delivered_;
  } else if (status == "stored") {
    ++stored_;
  } else {
    ++other_status_;
  }
  // An ack carries no text of this tool's, so the key can only be the server's field.
  if (has_true_field(payload, "\"duplicate\"")) ++duplicate_;
}

void reply_tally::count_error(std::string_view payload) {
  std::string_view const code = find_string_field(payload, "\"code\"");
  add_code(code.empty() ? "(none)" : code, 1);
}

void reply_tally::add_code(std::string_view code, std::uint64_t n) {
  auto it = errors_.find(code);
  if (it == errors_.end()) {
    if (errors_.size() >= max_codes) code = "other";
    it = errors_.try_emplace(std::string(code), 0).first;
  }
  it->second += n;
}

void reply_tally::merge(reply_tally const& other) {
  delivered_ += other.delivered_, stored_ += other.stored_;
  other_status_ += other.other_status_, duplicate_ += other.duplicate_;
  for (auto const& [code, n] : other.errors_)
    add_code(code, n);
}

boost::json::object reply_tally::acks_by_status() const {
  boost::json::object o;
  o["delivered"] = delivered_;
  o["stored"] = stored_;
  o["other"] = other_status_;
  return o;
}

boost::json::object reply_tally::errors_by_code() const {
  boost::json::object o;
  for (auto const& [code, n] : errors_)
    o[code] = n;
  return o;
}

}  // namespace parley::bench

#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::protocol {

// Appends one flat JSON object to a string, field by field (string_field, int_field, bool_field):
// what every server frame is. Strings are escaped per RFC 8259 (quote, backslash and control
// characters); the input must be valid UTF-8, which every string the server forwards already is.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) { out_.push_back('{'); }

  json_writer& string_field(std::string_view name, std::string_view value);
  json_writer& int_field(std::string_view name, std::int64_t value);
  json_writer& bool_field(std::string_view name, bool value);
  // Starts an array field; array_item then close_array.
  json_writer& open_array(std::string_view name);
  json_writer& array_item(std::string_view value);
  json_writer& close_array();
  void finish() { out_.push_back('}'); }

  static void append_escaped(std::string& out, std::string_view value);

 private:
  void key(std::string_view name);
  std::string& out_;
  bool first_ = true;
  bool first_item_ = true;
};

}  // namespace parley::protocol

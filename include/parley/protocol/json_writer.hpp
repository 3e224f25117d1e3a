#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace parley::protocol {

// Appends one flat JSON object to a string, field by field (string_field, int_field, bool_field):
// what every server frame is. Strings are escaped per RFC 8259 (quote, backslash and control
// characters); the input must be valid UTF-8, which every string the server forwards already is.
//
// The object is complete once finish() is called. Until then the string may hold spare bytes
// past the object: the writer grows it ahead and writes in place, since a relayed message is
// written field by field and one call into std::string per piece cost more than the rest.
class json_writer {
 public:
  explicit json_writer(std::string& out) : json_writer(out, out.size()) {}
  // Writes the object over `out` from `at` on (what `out` held from there is overwritten): a
  // buffer reused for one object after another grows only when an object is longer.
  json_writer(std::string& out, std::size_t at) : out_(out), end_(at) { put('{'); }
  ~json_writer() { out_.resize(end_); }
  json_writer(const json_writer&) = delete;
  json_writer& operator=(const json_writer&) = delete;

  json_writer& string_field(std::string_view name, std::string_view value) {
    key(name);
    escaped(value);
    return *this;
  }
  json_writer& int_field(std::string_view name, std::int64_t value);
  json_writer& bool_field(std::string_view name, bool value) {
    key(name);
    put(value ? std::string_view("true") : std::string_view("false"));
    return *this;
  }
  // Starts an array field; array_item then close_array.
  json_writer& open_array(std::string_view name);
  json_writer& array_item(std::string_view value);
  json_writer& close_array() {
    put(']');
    first_ = false;
    return *this;
  }
  // Objects nested in a field or as an array's item, closed by close_object; their fields are
  // written with the same calls as the top level's.
  json_writer& open_object(std::string_view name) {
    key(name);
    put('{');
    first_ = true;
    return *this;
  }
  json_writer& open_object_item() {
    if (!first_item_) put(',');
    first_item_ = false;
    put('{');
    first_ = true;
    return *this;
  }
  json_writer& close_object() {
    put('}');
    first_ = false;
    return *this;
  }
  void finish() {
    put('}');
    out_.resize(end_);
  }

 private:
  // Room for `n` more bytes at end_.
  char* room(std::size_t n) {
    if (out_.size() < end_ + n) grow(n);
    return out_.data() + end_;
  }
  void grow(std::size_t n);
  void put(char c) {
    *room(1) = c;
    ++end_;
  }
  void put(std::string_view s) {
    if (s.empty()) return;  // memcpy wants a pointer even for nothing
    std::memcpy(room(s.size()), s.data(), s.size());
    end_ += s.size();
  }
  // Keys are the server's own short names: never escaped.
  void key(std::string_view name) {
    char* p = room(name.size() + 4);
    if (!first_) *p++ = ',';
    *p++ = '"';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = '"';
    *p++ = ':';
    end_ = static_cast<std::size_t>(p - out_.data());
    first_ = false;
  }
  void escaped(std::string_view value);

  std::string& out_;
  std::size_t end_;  // the object's end so far; out_ may be longer
  bool first_ = true;
  bool first_item_ = true;
};

}  // namespace parley::protocol

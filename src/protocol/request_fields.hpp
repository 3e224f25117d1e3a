#pragma once
// Private to client_request.cpp: the handler that json::basic_parser calls for each JSON event
// of a client frame, and what it keeps. Inline, so the parser's loop inlines its calls;
// basic_parser<field_collector> is instantiated in client_request.cpp only.
#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/string_view.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/protocol/client_id.hpp"

namespace parley::protocol::detail {

namespace json = boost::json;

// The top-level fields protocol.md reads; every other key is skipped.
enum class field_name : unsigned char {
  none,
  type,
  to,
  text,
  cid,
  ids,
  name,
  mime,
  with,  // protocol-v2: read, history
  seq,
  before,
  after,
  limit,
  before_ts,
  count
};

inline field_name field_named(std::string_view key) {
  static constexpr std::pair<std::string_view, field_name> names[] = {
      {"type", field_name::type},
      {"to", field_name::to},
      {"text", field_name::text},
      {"cid", field_name::cid},
      {"ids", field_name::ids},
      {"name", field_name::name},
      {"mime", field_name::mime},
      {"with", field_name::with},
      {"seq", field_name::seq},
      {"before", field_name::before},
      {"after", field_name::after},
      {"limit", field_name::limit},
      {"before_ts", field_name::before_ts}};
  for (const auto& [text, name] : names)
    if (key == text) return name;
  return field_name::none;
}

// A field's value, reduced to what the checks ask of it. Null is absent (protocol.md).
enum class value_kind : unsigned char { absent, string, array, number, other };

struct field_value {
  value_kind kind = value_kind::absent;
  std::string_view text;  // a string's decoded bytes, in the parser's string_arena
  double number = 0;      // a number's value
  // A number that is a whole number a double holds exactly (|n| < 2^53), as JavaScript's
  // Number.isSafeInteger counts them: 5 and 5.0 are, 5.5 and 1e300 are not.
  bool integral = false;
};

// The decoded strings of one frame, back to back in one buffer sized before the parse and never
// reallocated during it, so views into it stay valid until the next frame. JSON decoding never
// lengthens a string, so a buffer as long as the frame holds every string kept from it.
class string_arena {
 public:
  // Makes room for the strings of a frame of `frame_bytes`, allocating only when the buffer is
  // too small, or when a rare large frame grew it past retained_bytes and this frame fits in
  // that again (a worker does not keep megabytes for good).
  void reset(std::size_t frame_bytes) {
    if (frame_bytes > capacity_) {
      allocate(std::max({frame_bytes, 2 * capacity_, min_bytes}));
    } else if (capacity_ > retained_bytes && frame_bytes <= retained_bytes) {
      allocate(retained_bytes);
    }
    size_ = start_ = 0;
  }
  void begin_string() { start_ = size_; }
  // False only if the buffer is full, which the sizing in reset() rules out.
  bool append(std::string_view part) {
    if (part.size() > capacity_ - size_) return false;
    if (!part.empty()) std::memcpy(data_.get() + size_, part.data(), part.size());
    size_ += part.size();
    return true;
  }
  // The string appended since begin_string().
  std::string_view string() const { return {data_.get() + start_, size_ - start_}; }

 private:
  static constexpr std::size_t min_bytes = 4096;            // most frames are far shorter
  static constexpr std::size_t retained_bytes = 64 * 1024;  // the default --max-text-bytes

  void allocate(std::size_t bytes) {
    data_.reset(new char[bytes]);
    capacity_ = bytes;
  }

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0, size_ = 0, start_ = 0;
};

// What one frame carries: whether it is an object, and its top-level fields. A field holds the
// last value given to its key, as json::parse's DOM (Boost 1.81) keeps the last of duplicate keys.
struct frame_fields {
  bool is_object = false;
  std::array<field_value, static_cast<std::size_t>(field_name::count)> values;
  // When `ids` is an array: its elements of any kind, whether each is an id string, and the
  // first max_watch_ids of them (the rest are only counted).
  std::size_t id_count = 0;
  bool all_ids = true;
  std::vector<std::string_view> ids;

  const field_value& operator[](field_name f) const { return values[static_cast<std::size_t>(f)]; }
  field_value& operator[](field_name f) { return values[static_cast<std::size_t>(f)]; }
};

// The handler of json::basic_parser: receives the events of one JSON text and keeps the
// frame_fields, without building a document. Depth 0 is outside any container, 1 inside the
// top-level value (the object whose keys are fields), 2 inside a field's array or object.
class field_collector {
 public:
  // The limits of json::parse's own handler (detail::handler), so the same texts fail.
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  explicit field_collector(std::size_t max_ids) : max_ids_(max_ids) {}

  // Forgets the previous frame; `frame_bytes` sizes the arena for the next one.
  void reset(std::size_t frame_bytes) {
    arena_.reset(frame_bytes);
    fields_.is_object = false;
    fields_.values.fill({});
    fields_.ids.clear();
    depth_ = key_size_ = 0;
    field_ = field_name::none;
    in_string_ = keep_string_ = false;
  }
  const frame_fields& fields() const { return fields_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    if (depth_ == 0)
      fields_.is_object = true;
    else
      value(value_kind::other);
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth_;
    return true;
  }
  bool on_array_begin(json::error_code&) {
    if (depth_ > 0) value(value_kind::array);
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth_;
    return true;
  }

  bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
    if (depth_ == 1) add_to_key(part);
    return true;
  }
  bool on_key(json::string_view part, std::size_t, json::error_code&) {
    if (depth_ != 1) return true;
    add_to_key(part);
    field_ = key_size_ <= key_.size() ? field_named({key_.data(), key_size_}) : field_name::none;
    key_size_ = 0;
    return true;
  }
  bool on_string_part(json::string_view part, std::size_t, json::error_code& ec) {
    return add_to_string(part, ec);
  }
  bool on_string(json::string_view part, std::size_t, json::error_code& ec) {
    if (!add_to_string(part, ec)) return false;
    in_string_ = false;
    value(value_kind::string, keep_string_ ? arena_.string() : std::string_view());
    return true;
  }

  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t n, json::string_view, json::error_code&) {
    return number(static_cast<double>(n));
  }
  bool on_uint64(std::uint64_t n, json::string_view, json::error_code&) {
    return number(static_cast<double>(n));
  }
  bool on_double(double n, json::string_view, json::error_code&) { return number(n); }
  bool on_bool(bool, json::error_code&) { return other(); }
  bool on_null(json::error_code&) {
    value(value_kind::absent);
    return true;
  }
  // Comments are off (parse_options), so these are never called.
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  bool other() {
    value(value_kind::other);
    return true;
  }
  bool number(double n) {
    value(value_kind::number);
    if (depth_ == 1 && field_ != field_name::none) {
      // Boost.JSON 1.81 reads a zero with an exponent past 308 (0e320, 0.0e400) as NaN; JSON
      // has no NaN, and that number is 0.
      if (std::isnan(n)) n = 0;
      constexpr double max_safe = 9007199254740991.0;  // 2^53 - 1
      fields_[field_].number = n;
      fields_[field_].integral = n >= -max_safe && n <= max_safe && n == std::trunc(n);
    }
    return true;
  }

  // A value began (container) or ended (scalar) at the current depth.
  void value(value_kind kind, std::string_view text = {}) {
    if (depth_ == 1) {
      set_field(kind, text);
    } else if (depth_ == 2 && in_ids_array()) {
      id_element(kind, text);
    }
  }
  // The value of the current top-level key; it replaces any earlier value of the same key.
  void set_field(value_kind kind, std::string_view text) {
    if (field_ == field_name::none) return;
    fields_[field_] = {kind, text};
    if (field_ == field_name::ids) {
      fields_.id_count = 0;
      fields_.all_ids = true;
      fields_.ids.clear();
    }
  }
  bool in_ids_array() const {
    return field_ == field_name::ids && fields_[field_name::ids].kind == value_kind::array;
  }
  // An element of the `ids` array: counted whatever it is, kept while all are id strings.
  void id_element(value_kind kind, std::string_view text) {
    ++fields_.id_count;
    if (kind != value_kind::string || text.size() > max_client_id_bytes) fields_.all_ids = false;
    if (fields_.all_ids && fields_.id_count <= max_ids_) fields_.ids.push_back(text);
  }

  // Keys arrive in parts; only their first bytes are kept, enough to tell the field names.
  void add_to_key(json::string_view part) {
    if (key_size_ < key_.size() && !part.empty()) {
      std::size_t n = std::min(part.size(), key_.size() - key_size_);
      std::memcpy(key_.data() + key_size_, part.data(), n);
    }
    key_size_ += part.size();
  }
  // Strings arrive in parts (escaped ones decoded into the JSON parser's own buffer), so a kept
  // one is copied into the arena part by part. Only fields and ids are kept.
  bool add_to_string(json::string_view part, json::error_code& ec) {
    if (!in_string_) {
      in_string_ = true;
      keep_string_ = depth_ == 1 ? field_ != field_name::none : depth_ == 2 && in_ids_array();
      if (keep_string_) arena_.begin_string();
    }
    if (keep_string_ && !arena_.append({part.data(), part.size()})) {
      ec = json::error::exception;
      return false;
    }
    return true;
  }

  std::size_t max_ids_;
  frame_fields fields_;
  string_arena arena_;
  std::size_t depth_ = 0;
  field_name field_ = field_name::none;  // the top-level key whose value is being read
  std::array<char, 9> key_{};            // the longest field name (before_ts)
  std::size_t key_size_ = 0;             // of the whole key, beyond key_ too
  bool in_string_ = false;
  bool keep_string_ = false;
};

}  // namespace parley::protocol::detail

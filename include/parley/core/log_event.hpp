#pragma once
#include <spdlog/common.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::core {

// One log line about an event ("connect", "disconnect", "refused", "reload"): a name and named
// fields. The logger's formatter (app/log_format) writes it as `name key=value ... (reason)` (or
// as its message, when it has one) in the text format, and as one JSON object per line in the
// json format; callers do not know which. The fields travel inside the line's text, set apart by
// ASCII RS and US, which no field keeps (they are replaced by '?').
// Field names are the caller's own short words; time, level and event are taken.
class log_event {
 public:
  explicit log_event(std::string_view name);

  log_event& text(std::string_view key, std::string_view value);
  log_event& number(std::string_view key, std::int64_t value);
  // The line as the text format writes it, instead of `name key=value ...`; the json format
  // writes it as the field "message".
  log_event& message(std::string_view text);

  // Writes the line at `level` through the default logger.
  void log(spdlog::level::level_enum level) const;
  std::string_view encoded() const { return line_; }

 private:
  void field(char kind, std::string_view key, std::string_view value);

  std::string line_;
};

// A field of a decoded event.
struct log_field {
  std::string_view key;
  std::string_view value;
  bool number = false;   // an integer: JSON writes it unquoted
  bool message = false;  // log_event::message (its key is "message")
};

// Reads a line back for a formatter: an encoded event, or any other (plain) line.
class log_event_reader {
 public:
  explicit log_event_reader(std::string_view line);

  bool is_event() const { return event_; }
  std::string_view name() const { return name_; }
  // The next field, in the order they were added; false after the last.
  bool next(log_field& field);

 private:
  std::string_view rest_;  // the fields not read yet, each after its mark
  std::string_view name_;
  bool event_ = false;
};

}  // namespace parley::core

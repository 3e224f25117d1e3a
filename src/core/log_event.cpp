#include "parley/core/log_event.hpp"

#include <spdlog/spdlog.h>

namespace parley::core {

namespace {
constexpr char event_mark = '\x1e';  // starts an event; its name follows
constexpr char field_mark = '\x1f';  // starts a field: kind ('s', 'n'), key, '=', value
}  // namespace

log_event::log_event(std::string_view name) {
  line_.reserve(160);
  line_.push_back(event_mark);
  line_.append(name);
}

log_event& log_event::text(std::string_view key, std::string_view value) {
  field('s', key, value);
  return *this;
}

log_event& log_event::number(std::string_view key, std::int64_t value) {
  field('n', key, std::to_string(value));
  return *this;
}

log_event& log_event::message(std::string_view text) {
  field('m', "message", text);
  return *this;
}

void log_event::field(char kind, std::string_view key, std::string_view value) {
  line_.push_back(field_mark);
  line_.push_back(kind);
  line_.append(key);
  line_.push_back('=');
  std::size_t start = line_.size();
  line_.append(value);
  for (std::size_t i = start; i < line_.size(); ++i) {
    if (line_[i] == event_mark || line_[i] == field_mark) line_[i] = '?';
  }
}

void log_event::log(spdlog::level::level_enum level) const {
  spdlog::log(level, "{}", line_);
}

log_event_reader::log_event_reader(std::string_view line) {
  if (line.empty() || line.front() != event_mark) return;
  event_ = true;
  line.remove_prefix(1);
  std::size_t end = line.find(field_mark);
  name_ = line.substr(0, end);
  rest_ = end == std::string_view::npos ? std::string_view() : line.substr(end);
}

bool log_event_reader::next(log_field& field) {
  while (!rest_.empty()) {
    rest_.remove_prefix(1);  // the mark
    std::size_t end = rest_.find(field_mark);
    std::string_view text = rest_.substr(0, end);
    rest_ = end == std::string_view::npos ? std::string_view() : rest_.substr(end);
    std::size_t equals = text.find('=');
    if (text.size() < 2 || equals == std::string_view::npos) continue;
    field = {text.substr(1, equals - 1), text.substr(equals + 1), text.front() == 'n',
             text.front() == 'm'};
    return true;
  }
  return false;
}

}  // namespace parley::core

#include "parley/app/log_format.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <charconv>
#include <ctime>
#include <memory>
#include <string_view>

#include "parley/core/log_event.hpp"
#include "parley/protocol/json_writer.hpp"
#include "parley/protocol/utf8_validator.hpp"

namespace parley::app {

namespace {

constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";

std::string_view payload_of(const spdlog::details::log_msg& msg) {
  return {msg.payload.data(), msg.payload.size()};
}

// Today's text lines: an event reads as its message, or `name key=value ... (reason)`; other
// lines as they are.
class text_formatter final : public spdlog::formatter {
 public:
  text_formatter() : pattern_(std::make_unique<spdlog::pattern_formatter>(text_pattern)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    core::log_event_reader event(payload_of(msg));
    if (!event.is_event()) return pattern_->format(msg, dest);
    text_.assign(event.name());
    for (core::log_field f; event.next(f);) {
      if (f.message) {
        text_.assign(f.value);
        break;
      }
      if (f.key == "reason") {
        text_.append(" (").append(f.value).append(")");
      } else {
        text_.append(" ").append(f.key).append("=").append(f.value);
      }
    }
    spdlog::details::log_msg rendered = msg;
    rendered.payload = spdlog::string_view_t(text_.data(), text_.size());
    pattern_->format(rendered, dest);
    msg.color_range_start = rendered.color_range_start;  // what the color sink paints
    msg.color_range_end = rendered.color_range_end;
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<text_formatter>();
  }

 private:
  std::unique_ptr<spdlog::pattern_formatter> pattern_;
  std::string text_;
};

// One JSON object per line, for log collectors (journald, Loki, Elasticsearch).
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    line_.clear();
    {
      protocol::json_writer json(line_);
      json.string_field("time", utc_time(msg.time));
      auto level = spdlog::level::to_string_view(msg.level);
      json.string_field("level", std::string_view(level.data(), level.size()));
      core::log_event_reader event(payload_of(msg));
      if (event.is_event()) {
        json.string_field("event", event.name());
        for (core::log_field f; event.next(f);)
          write_field(json, f);
      } else {
        json.string_field("event", "log").string_field("message", valid_utf8(payload_of(msg)));
      }
      json.finish();
    }
    line_.push_back('\n');
    dest.append(line_.data(), line_.data() + line_.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }

 private:
  void write_field(protocol::json_writer& json, const core::log_field& f) {
    std::int64_t number = 0;
    const char* end = f.value.data() + f.value.size();
    auto parsed = std::from_chars(f.value.data(), end, number);
    if (f.number && parsed.ec == std::errc() && parsed.ptr == end) {
      json.int_field(f.key, number);
    } else {
      json.string_field(f.key, valid_utf8(f.value));
    }
  }

  // 2024-05-01T08:00:00.123Z
  static std::string utc_time(spdlog::log_clock::time_point time) {
    using namespace std::chrono;
    auto since_epoch = time.time_since_epoch();
    std::time_t seconds = duration_cast<std::chrono::seconds>(since_epoch).count();
    auto millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
    return text;
  }

  // JSON strings are UTF-8: a line holding other bytes (a client's header) gets '?' for each
  // byte past ASCII.
  std::string_view valid_utf8(std::string_view text) {
    if (protocol::utf8_validator::is_valid(text)) return text;
    ascii_.assign(text);
    for (char& c : ascii_) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
    return ascii_;
  }

  std::string line_;
  std::string ascii_;
};

}  // namespace

void set_up_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_color_mt("parley");
  if (format == "json") {
    logger->set_formatter(std::make_unique<json_formatter>());
  } else {
    logger->set_formatter(std::make_unique<text_formatter>());
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace parley::app

#pragma once
#include <string>

namespace parley::app {

// The formats --log-format takes.
inline constexpr const char* log_formats[] = {"text", "json"};

// Makes the "parley" logger on stderr the default one, at `level`, writing `format`:
//  - text: `2024-05-01T10:00:00.123 info disconnect id=alice peer=... code=1000 (reason) ...`,
//    local time, the level colored on a terminal;
//  - json: one object per line, {"time":"2024-05-01T08:00:00.123Z","level":"info",
//    "event":"disconnect","id":"alice",...}, time in UTC; a line that is no core::log_event is
//    {"time":...,"level":...,"event":"log","message":"..."}.
void set_up_logging(const std::string& level, const std::string& format);

}  // namespace parley::app

// Structured logging (src/common).
//
// One line per event: a short, fixed event text plus key=value fields, so that logs read well
// and grep or parse reliably.
//
//   log::Info("listening", {{"listener", "http"}, {"address", "127.0.0.1:8080"}});
//   text: 2026-11-25T15:45:38.123Z info  listening listener=http address=127.0.0.1:8080
//   json: {"ts":"2026-11-25T15:45:38.123Z","level":"info","msg":"listening","listener":"http",...}
//
// Thread-safe. Writes to stderr.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/result.h"

namespace seaway::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

// One key=value pair. The value is formatted with fmt at the call site.
struct Field {
  template <typename T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}

  std::string_view key;
  std::string value;
};

// Sets the minimum level and the line format. Call once at startup; the default is info, text.
void Configure(Level level, Format format);

// Parses "debug", "info", "warn", "error", "off" and "text", "json".
Result<Level> ParseLevel(std::string_view name);
Result<Format> ParseFormat(std::string_view name);

bool Enabled(Level level);
void Write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void Debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

// Renders one line body (without timestamp and level) in `format`; exposed for tests.
std::string RenderFields(Format format, std::string_view event,
                         std::initializer_list<Field> fields);

}  // namespace seaway::log

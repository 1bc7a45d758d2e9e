// Structured logging over spdlog (src/common).
#include "common/logging.h"

#include <atomic>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/json_text.h"

namespace seaway::log {
namespace {

std::atomic<Format> g_format{Format::kText};

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("seaway");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Quoted text values use the same escapes as JSON strings.
void AppendTextValue(std::string* out, std::string_view v) {
  if (NeedsQuotes(v)) {
    AppendJsonString(v, out);
  } else {
    out->append(v);
  }
}

}  // namespace

void Configure(Level level, Format format) {
  g_format.store(format);
  Logger().set_level(ToSpd(level));
  if (format == Format::kJson) {
    Logger().set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                         spdlog::pattern_time_type::utc);
  } else {
    Logger().set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
}

Result<Level> ParseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  return InvalidArgument("unknown log level '{}' (expected debug, info, warn, error or off)", name);
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return InvalidArgument("unknown log format '{}' (expected text or json)", name);
}

bool Enabled(Level level) { return Logger().should_log(ToSpd(level)); }

std::string RenderFields(Format format, std::string_view event,
                         std::initializer_list<Field> fields) {
  std::string out;
  if (format == Format::kJson) {
    out.append("\"msg\":");
    AppendJsonString(event, &out);
    for (const Field& f : fields) {
      out.push_back(',');
      AppendJsonString(f.key, &out);
      out.push_back(':');
      AppendJsonString(f.value, &out);
    }
  } else {
    out.append(event);
    for (const Field& f : fields) {
      out.push_back(' ');
      out.append(f.key);
      out.push_back('=');
      AppendTextValue(&out, f.value);
    }
  }
  return out;
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  auto& logger = Logger();
  if (!logger.should_log(ToSpd(level))) return;
  logger.log(ToSpd(level), RenderFields(g_format.load(), event, fields));
}

}  // namespace seaway::log

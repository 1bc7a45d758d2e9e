// JSON string literals (src/common): the one escaper for logs, HTTP error bodies and SQL
// results.
//
// Escapes '"', '\\', control characters (below 0x20, and DEL) as JSON requires or as terminals
// prefer; bytes >= 0x80 pass through, so UTF-8 text stays readable.
//
// Thread-safe (no state).
#pragma once

#include <string>
#include <string_view>

namespace seaway {

// Appends `text` escaped as the inside of a JSON string (no quotes).
void AppendJsonEscaped(std::string_view text, std::string* out);

// Appends `text` as a JSON string literal, quotes included.
inline void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(text, out);
  out->push_back('"');
}

}  // namespace seaway

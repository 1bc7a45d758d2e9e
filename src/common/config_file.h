// ConfigFile: parses Seaway's configuration file format (src/common).
//
// The format is one `key = value` per line, a subset of TOML:
//
//   # Seaway server settings
//   data-dir = "/var/lib/seaway"     # quoted values may use \" \\ \n \t escapes
//   http = 127.0.0.1:8080            # bare values end at whitespace or '#'
//
// Keys are the long flag names of `seaway serve` ([A-Za-z0-9_.-]+). Blank lines and comments are
// ignored. A key given twice, a line without '=', or an unterminated quote is an error naming the
// line. The parser is socket-free and fuzzed (tests/fuzz/config_file).
//
// Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace seaway {

struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based
};

// Parses `text`; `source` names it in errors (usually the file path).
Result<std::vector<ConfigEntry>> ParseConfigText(std::string_view text, std::string_view source);

}  // namespace seaway

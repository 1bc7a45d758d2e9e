// ConfigFile parser (src/common).
#include "common/config_file.h"

#include <set>

namespace seaway {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

// Checks that only whitespace or a comment follows a value.
bool OnlyCommentLeft(std::string_view rest) {
  rest = TrimLeft(rest);
  return rest.empty() || rest.front() == '#';
}

}  // namespace

Result<std::vector<ConfigEntry>> ParseConfigText(std::string_view text, std::string_view source) {
  if (text.size() > kMaxConfigBytes) {
    return InvalidArgument("config '{}': {} bytes exceeds the limit of {} bytes", source,
                           text.size(), kMaxConfigBytes);
  }
  std::vector<ConfigEntry> entries;
  std::set<std::string, std::less<>> seen;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);

    line = TrimLeft(line);
    if (line.empty() || line.front() == '#') continue;

    size_t key_end = 0;
    while (key_end < line.size() && IsKeyChar(line[key_end])) ++key_end;
    if (key_end == 0) {
      return InvalidArgument("config '{}' line {}: expected a key, found '{}'", source, line_no,
                             line.substr(0, 1));
    }
    ConfigEntry entry{std::string(line.substr(0, key_end)), {}, line_no};
    std::string_view rest = TrimLeft(line.substr(key_end));
    if (rest.empty() || rest.front() != '=') {
      return InvalidArgument("config '{}' line {}: expected '=' after key '{}'", source, line_no,
                             entry.key);
    }
    rest = TrimLeft(rest.substr(1));

    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      bool closed = false;
      for (; i < rest.size(); ++i) {
        char c = rest[i];
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (c == '\\') {
          if (++i == rest.size()) break;
          switch (rest[i]) {
            case '"': entry.value.push_back('"'); break;
            case '\\': entry.value.push_back('\\'); break;
            case 'n': entry.value.push_back('\n'); break;
            case 't': entry.value.push_back('\t'); break;
            default:
              return InvalidArgument("config '{}' line {}: unknown escape '\\{}' in value of '{}'",
                                     source, line_no, rest[i], entry.key);
          }
          continue;
        }
        entry.value.push_back(c);
      }
      if (!closed) {
        return InvalidArgument("config '{}' line {}: unterminated quoted value for '{}'", source,
                               line_no, entry.key);
      }
      if (!OnlyCommentLeft(rest.substr(i))) {
        return InvalidArgument("config '{}' line {}: unexpected text after the value of '{}'",
                               source, line_no, entry.key);
      }
    } else {
      size_t end = 0;
      while (end < rest.size() && !IsSpace(rest[end]) && rest[end] != '#') ++end;
      entry.value = std::string(rest.substr(0, end));
      if (!OnlyCommentLeft(rest.substr(end))) {
        return InvalidArgument("config '{}' line {}: value of '{}' has spaces; quote it (\"...\")",
                               source, line_no, entry.key);
      }
    }
    if (!seen.insert(entry.key).second) {
      return InvalidArgument("config '{}' line {}: key '{}' is set twice", source, line_no,
                             entry.key);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace seaway

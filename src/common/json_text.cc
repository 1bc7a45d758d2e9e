// JSON string literals (src/common).
#include "common/json_text.h"

#include <iterator>

#include <fmt/format.h>

namespace seaway {

void AppendJsonEscaped(std::string_view text, std::string* out) {
  // Characters that need no escape go out in runs, one append each.
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\' && u != 0x7f) continue;
    out->append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<int>(u));
    }
  }
  out->append(text.data() + run, text.size() - run);
}

}  // namespace seaway

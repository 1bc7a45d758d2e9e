// Fuzz target for what `seaway sql` does with bytes it did not choose (src/cli): result text
// from devices made safe for a terminal (EscapeForTerminal, DisplayWidth), and typed or piped
// SQL cut into statements (StatementSplitter). Whatever the bytes: no control character
// survives the escaping (newlines and tabs only where kept), no C1 control either, and the
// statements found do not depend on how the input was cut into pieces.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/statement_splitter.h"
#include "cli/terminal_text.h"
#include "fuzz/fuzz_check.h"

namespace {

void CheckEscaped(std::string_view out, bool keep_lines) {
  for (size_t i = 0; i < out.size(); ++i) {
    const auto b = static_cast<unsigned char>(out[i]);
    if (keep_lines && (b == '\n' || b == '\t')) continue;
    FUZZ_CHECK(b >= 0x20 && b != 0x7F);
    // U+0080..U+009F in UTF-8: C2 80..C2 9F.
    if (b == 0xC2 && i + 1 < out.size()) {
      const auto next = static_cast<unsigned char>(out[i + 1]);
      FUZZ_CHECK(next < 0x80 || next > 0x9F);
    }
  }
}

std::vector<std::string> Split(const std::vector<std::string_view>& pieces) {
  seaway::cli::StatementSplitter splitter;
  std::vector<std::string> out;
  for (std::string_view piece : pieces) {
    for (std::string& s : splitter.Add(piece)) out.push_back(std::move(s));
  }
  out.push_back(splitter.TakeRest());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::string escaped = seaway::cli::EscapeForTerminal(text);
  CheckEscaped(escaped, /*keep_lines=*/false);
  FUZZ_CHECK(seaway::cli::DisplayWidth(escaped) <= 2 * escaped.size());
  CheckEscaped(seaway::cli::EscapeForTerminal(text, seaway::cli::LineLayout::kKeep),
               /*keep_lines=*/true);

  // The first byte picks where to cut the rest in two.
  if (size > 0) {
    const std::string_view sql = text.substr(1);
    const size_t cut = sql.empty() ? 0 : data[0] % (sql.size() + 1);
    FUZZ_CHECK(Split({sql}) == Split({sql.substr(0, cut), sql.substr(cut)}));
  }
  return 0;
}

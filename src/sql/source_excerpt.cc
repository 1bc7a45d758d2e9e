// Positions in SQL text and error excerpts (src/sql).
#include "sql/source_excerpt.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace seaway::sql {
namespace {

// The widest excerpt line, in characters; longer lines show a window around the column.
constexpr size_t kExcerptWidth = 120;

// UTF-8 continuation bytes do not start a character.
bool StartsCharacter(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

bool IsControl(char c) {
  auto b = static_cast<unsigned char>(c);
  return (b < 0x20 && c != '\t') || b == 0x7f;
}

size_t CountCharacters(std::string_view bytes) {
  return static_cast<size_t>(std::count_if(bytes.begin(), bytes.end(), StartsCharacter));
}

// The byte offset of character `n` (0-based) of `line`, or line.size().
size_t ByteOfCharacter(std::string_view line, size_t n) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (StartsCharacter(line[i]) && n-- == 0) return i;
  }
  return line.size();
}

}  // namespace

SourcePosition PositionOf(std::string_view text, size_t offset) {
  PositionTracker tracker(text);
  return tracker.Advance(offset);
}

SourcePosition PositionTracker::Advance(size_t offset) {
  offset = std::min(offset, text_.size());
  for (; offset_ < offset; ++offset_) {
    char c = text_[offset_];
    if (c == '\n') {
      ++position_.line;
      position_.column = 1;
    } else if (StartsCharacter(c)) {
      ++position_.column;
    }
  }
  return position_;
}

std::string SourceExcerpt(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t newline = text.substr(0, offset).rfind('\n');
  size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
  size_t line_end = text.find('\n', offset);
  if (line_end == std::string_view::npos) line_end = text.size();
  if (line_end > line_start && text[line_end - 1] == '\r') --line_end;
  std::string_view line = text.substr(line_start, line_end - line_start);
  size_t caret = std::min(offset - line_start, line.size());

  // Cut long lines to a window of kExcerptWidth characters that holds the caret.
  size_t chars = CountCharacters(line);
  size_t caret_char = CountCharacters(line.substr(0, caret));
  size_t first_char = 0;
  if (chars > kExcerptWidth) {
    first_char = caret_char > kExcerptWidth / 2 ? caret_char - kExcerptWidth / 2 : 0;
    first_char = std::min(first_char, chars - kExcerptWidth);
  }
  size_t begin = ByteOfCharacter(line, first_char);
  size_t end = ByteOfCharacter(line, first_char + kExcerptWidth);
  std::string source_line = begin > 0 ? "..." : "";
  std::string caret_line = begin > 0 ? "   " : "";
  for (size_t i = begin; i < end; ++i) source_line += IsControl(line[i]) ? '?' : line[i];
  if (end < line.size()) source_line += "...";
  for (size_t i = begin; i < caret; ++i) {
    if (StartsCharacter(line[i])) caret_line += line[i] == '\t' ? '\t' : ' ';
  }
  caret_line += '^';
  return source_line + "\n" + caret_line;
}

Status SyntaxError(std::string_view text, size_t offset, std::string_view message) {
  SourcePosition position = PositionOf(text, offset);
  return InvalidArgument("syntax error at line {}, column {}: {}\n{}", position.line,
                         position.column, message, SourceExcerpt(text, offset));
}

Status LocateError(const Status& s, std::string_view text, size_t offset) {
  if (s.ok()) return s;
  const SourcePosition position = PositionOf(text, offset);
  return Status(s.code(), fmt::format("{} at line {}, column {}\n{}", s.message(), position.line,
                                      position.column, SourceExcerpt(text, offset)));
}

namespace {

// Ends a marked message, followed by the offset in decimal: the mark is always last, so values
// quoted in the message (which may hold anything) come before it.
constexpr std::string_view kOffsetMark = "\x1f@";

// The offset a message's mark holds and where the mark starts, or npos.
std::pair<size_t, size_t> FindMark(std::string_view message) {
  const size_t at = message.rfind(kOffsetMark);
  if (at == std::string_view::npos) return {0, at};
  size_t offset = 0;
  const std::string_view digits = message.substr(at + kOffsetMark.size());
  if (digits.empty()) return {0, std::string_view::npos};
  for (char c : digits) {
    if (c < '0' || c > '9') return {0, std::string_view::npos};
    offset = offset * 10 + static_cast<size_t>(c - '0');
  }
  return {offset, at};
}

}  // namespace

Status MarkErrorOffset(const Status& s, size_t offset) {
  if (s.ok() || FindMark(s.message()).second != std::string_view::npos) return s;
  return Status(s.code(), fmt::format("{}{}{}", s.message(), kOffsetMark, offset));
}

Status LocateMarkedError(const Status& s, std::string_view text) {
  if (s.ok()) return s;
  const auto [offset, at] = FindMark(s.message());
  if (at == std::string_view::npos) return s;
  return LocateError(Status(s.code(), s.message().substr(0, at)), text, offset);
}

}  // namespace seaway::sql

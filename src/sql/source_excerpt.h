// Positions in SQL text and the error excerpt that points at them (src/sql).
//
// Every phase of the query path reports problems at a byte offset of the query text (tokens and
// AST nodes keep theirs). These helpers turn an offset into a line and column and build the
// message users see:
//
//   syntax error at line 2, column 8: expected FROM or end of statement, found 'FORM'
//     b, c FORM t
//          ^
//
// and, for errors found after parsing (binding, planning, running), with the message first:
//
//   cannot cast TEXT 'abc' to BIGINT at line 1, column 8
//   SELECT s::bigint FROM t
//          ^
//
// The excerpt is the line holding the offset and a caret under its column. Tabs in the line are
// repeated in the caret line so that the caret stays aligned; other control characters are shown
// as '?'; a line longer than 120 characters is cut to a window around the column, marked "...".
//
// Thread-compatible; pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace seaway::sql {

struct SourcePosition {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in characters (UTF-8 code points); a tab counts one
};

// The position of byte `offset` of `text`; offsets past the end mean the end of the text.
SourcePosition PositionOf(std::string_view text, size_t offset);

// The two lines under the message: the source line holding `offset` and the caret line.
std::string SourceExcerpt(std::string_view text, size_t offset);

// InvalidArgument("syntax error at line L, column C: <message>\n<excerpt>").
Status SyntaxError(std::string_view text, size_t offset, std::string_view message);

// `s` (not OK; its code kept) as "<message> at line L, column C\n<excerpt>".
Status LocateError(const Status& s, std::string_view text, size_t offset);

// Code that knows where an error is but not the text (the expression executor, running a plan)
// marks it with the offset; whoever holds the text then locates it. A mark already there is kept:
// the innermost expression, where the error arose, names the place.
Status MarkErrorOffset(const Status& s, size_t offset);
// `s` located (LocateError) at its mark's offset, the mark removed; `s` unchanged without one.
Status LocateMarkedError(const Status& s, std::string_view text);

// Counts lines and columns of increasing offsets of one text in linear total time (the lexer
// asks for every token's position).
class PositionTracker {
 public:
  explicit PositionTracker(std::string_view text) : text_(text) {}

  // REQUIRES: `offset` is not smaller than in the previous call.
  SourcePosition Advance(size_t offset);

 private:
  std::string_view text_;
  size_t offset_ = 0;
  SourcePosition position_;
};

}  // namespace seaway::sql

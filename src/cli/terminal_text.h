// Text from query results made safe to print on a terminal and measured in terminal columns
// (src/cli), for the tables and error messages of `seaway sql`.
//
// Any device that can write a string field can put bytes in a result, so nothing that a terminal
// would act on may reach it raw: escape sequences could clear the screen, recolour the output,
// set the window title or the clipboard, and a newline would break a table row. The escapes:
//
//   \n \r \t                        newline, carriage return, tab
//   \x00 .. \x1F, \x7F              the other C0 control characters and DEL (ESC is \x1B)
//   \u0080 .. \u009F                the C1 control characters (U+009B is an 8-bit CSI)
//   \u2028 \u2029                   line and paragraph separators
//   \u202A .. \u202E, \u2066 .. \u2069   bidirectional embeddings, overrides and isolates,
//                                   which would reorder the columns of a row
//   \xHH                            a byte that is not part of valid UTF-8
//
// Backslashes in the data are printed as they are (as psql does), so the table is for reading:
// --format csv|json give the exact values.
//
// Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace seaway::cli {

// Whether newlines and tabs are escaped (a table cell stays on one line) or kept (a multi-line
// message, such as a syntax error with its excerpt and caret, keeps its layout).
enum class LineLayout { kEscape, kKeep };

// `text` with the characters above escaped.
std::string EscapeForTerminal(std::string_view text, LineLayout layout = LineLayout::kEscape);

// How many terminal columns `text` takes (UTF-8): 2 for East Asian wide and fullwidth characters
// and emoji, 0 for combining marks and zero-width characters, 1 for the rest, including each byte
// that is not valid UTF-8. Meant for escaped text (no control characters).
size_t DisplayWidth(std::string_view text);

}  // namespace seaway::cli

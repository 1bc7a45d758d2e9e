// StatementSplitter: cuts what `seaway sql` reads (lines typed at the prompt, a script on stdin,
// the query argument) into statements (src/cli), so that each is sent to the server on its own.
//
// A statement ends at a ';' outside 'string literals' ('' for a quote), "quoted names" ("" for a
// quote), -- line comments and /* block comments */ (nesting), read as the server's lexer reads
// them (src/sql/lexer.cc). Text is fed in pieces of any size; a quote or comment may span pieces.
//
//   StatementSplitter splitter;
//   splitter.Add("select 1; select ';' as s; -- done\n");  // {"select 1", "select ';' as s"}
//
// Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seaway::cli {

class StatementSplitter {
 public:
  // Reads `text` after everything read before and returns the statements it ends, in order,
  // without their ';' and surrounding blanks. A statement of only blanks and comments (";;",
  // "-- note\n;") is dropped.
  std::vector<std::string> Add(std::string_view text);

  // The statement begun but not ended (at the end of the input, where it may lack its ';'),
  // trimmed; "" when nothing but blanks and comments follows the last ';'. Starts afresh.
  std::string TakeRest();

  // True when a statement has begun and is not ended, or a string, quoted name or comment is
  // open: the prompt asks for more.
  bool InStatement() const;

  // Forgets the unended statement (Ctrl-C at the prompt).
  void Clear();

 private:
  enum class State { kCode, kString, kQuotedName, kLineComment, kBlockComment };

  // Reads the token or byte at pending_[at] and returns its length (1 or 2), or 0 when the byte
  // may start a two-byte token (--, /*, */, '', "") and is the last one read so far.
  size_t Read(size_t at);

  std::string pending_;  // text after the last ';'
  size_t scanned_ = 0;   // pending_[0, scanned_) is read; the rest awaits a lookahead byte
  State state_ = State::kCode;
  int comment_depth_ = 0;  // of nested block comments
  bool has_code_ = false;  // pending_ holds more than blanks and comments
};

}  // namespace seaway::cli

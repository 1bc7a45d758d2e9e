// Splitting the input of `seaway sql` into statements (src/cli).
#include "cli/statement_splitter.h"

#include "cli/token.h"

namespace seaway::cli {
namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::vector<std::string> StatementSplitter::Add(std::string_view text) {
  pending_.append(text);
  std::vector<std::string> statements;
  size_t start = 0;  // of the current statement in pending_
  while (scanned_ < pending_.size()) {
    if (state_ == State::kCode && pending_[scanned_] == ';') {
      if (has_code_) {
        statements.push_back(Trim(std::string_view(pending_).substr(start, scanned_ - start)));
      }
      has_code_ = false;
      start = ++scanned_;
      continue;
    }
    const size_t length = Read(scanned_);
    if (length == 0) break;  // decided by the next piece
    scanned_ += length;
  }
  pending_.erase(0, start);
  scanned_ -= start;
  return statements;
}

size_t StatementSplitter::Read(size_t at) {
  const char c = pending_[at];
  const bool last = at + 1 == pending_.size();
  const char next = last ? '\0' : pending_[at + 1];
  switch (state_) {
    case State::kCode:
      if ((c == '-' || c == '/') && last) return 0;
      if (c == '-' && next == '-') {
        state_ = State::kLineComment;
        return 2;
      }
      if (c == '/' && next == '*') {
        state_ = State::kBlockComment;
        comment_depth_ = 1;
        return 2;
      }
      if (!IsBlank(c)) has_code_ = true;
      if (c == '\'') state_ = State::kString;
      if (c == '"') state_ = State::kQuotedName;
      return 1;
    case State::kString:
    case State::kQuotedName: {
      const char quote = state_ == State::kString ? '\'' : '"';
      if (c != quote) return 1;
      if (last) return 0;
      if (next == quote) return 2;  // a doubled quote stands for one
      state_ = State::kCode;
      return 1;
    }
    case State::kLineComment:
      if (c == '\n') state_ = State::kCode;
      return 1;
    case State::kBlockComment:
      if ((c == '/' || c == '*') && last) return 0;
      if (c == '/' && next == '*') {
        ++comment_depth_;
        return 2;
      }
      if (c == '*' && next == '/') {
        if (--comment_depth_ == 0) state_ = State::kCode;
        return 2;
      }
      return 1;
  }
  return 1;
}

std::string StatementSplitter::TakeRest() {
  std::string rest = has_code_ ? Trim(pending_) : std::string();
  Clear();
  return rest;
}

bool StatementSplitter::InStatement() const { return has_code_ || state_ != State::kCode; }

void StatementSplitter::Clear() {
  pending_.clear();
  scanned_ = 0;
  state_ = State::kCode;
  comment_depth_ = 0;
  has_code_ = false;
}

}  // namespace seaway::cli

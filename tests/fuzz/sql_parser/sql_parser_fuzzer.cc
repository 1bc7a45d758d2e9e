// Fuzz target for the SQL lexer and parser (src/sql/parser.h): any bytes either parse or fail
// with InvalidArgument naming a line and a column; nothing crashes, however deep the nesting;
// and a parsed statement prints (src/sql/ast_printer.h) to text that parses again and prints
// the same, statement by statement for scripts too.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "sql/ast_printer.h"
#include "sql/parser.h"

namespace {

void CheckError(const seaway::Status& status) {
  FUZZ_CHECK(status.code() == seaway::StatusCode::kInvalidArgument);
  std::string_view message = status.message();
  FUZZ_CHECK(message.starts_with("syntax error at line "));
  FUZZ_CHECK(message.find(", column ") != std::string_view::npos);
  FUZZ_CHECK(message.find('^') != std::string_view::npos);
}

void CheckRoundTrip(const seaway::sql::Statement& statement) {
  std::string printed = seaway::sql::ToSql(statement);
  auto again = seaway::sql::ParseSql(printed);
  if (!again.ok()) {
    std::fprintf(stderr, "printed: %s\nerror: %s\n", printed.c_str(),
                 std::string(again.status().message()).c_str());
  }
  FUZZ_CHECK(again.ok());
  std::string reprinted = seaway::sql::ToSql(*again);
  if (reprinted != printed) {
    std::fprintf(stderr, "printed:   %s\nreprinted: %s\n", printed.c_str(), reprinted.c_str());
  }
  FUZZ_CHECK(reprinted == printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto statement = seaway::sql::ParseSql(text);
  if (statement.ok()) {
    CheckRoundTrip(*statement);
  } else {
    CheckError(statement.status());
  }

  auto script = seaway::sql::ParseScript(text);
  if (script.ok()) {
    for (const auto& s : *script) CheckRoundTrip(s);
    // A single statement is a script of one.
    if (statement.ok()) FUZZ_CHECK(script->size() == 1);
  } else {
    CheckError(script.status());
  }

  auto expr = seaway::sql::ParseExpression(text);
  if (expr.ok()) {
    std::string printed = seaway::sql::ToSql(**expr);
    auto again = seaway::sql::ParseExpression(printed);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(seaway::sql::ToSql(**again) == printed);
  } else {
    CheckError(expr.status());
  }
  return 0;
}

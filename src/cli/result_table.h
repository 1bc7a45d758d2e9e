// ResultTable: a query result shown as an aligned text table (src/cli), as `seaway sql` prints
// it:
//
//    host | count
//   ------+-------
//    a    |     3
//    b    |  NULL
//
// Numbers (BIGINT, UBIGINT, DOUBLE columns) are right-aligned, the rest left-aligned. NULL shows
// as NULL; a text that would read the same (NULL, null, 'NULL') shows as a string literal
// ('NULL', 'null', '''NULL'''), so the two never look alike. Control characters in cells and
// column names are escaped (\n, \x1B: cli/terminal_text.h), so a row stays on one line and the data
// cannot drive the terminal. Widths are terminal columns: a CJK character or an emoji takes two.
//
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace seaway::cli {

struct ResultTable {
  std::vector<std::string> names;
  std::vector<bool> numeric;                   // per column: right-aligned
  std::vector<std::vector<std::string>> rows;  // cell texts

  // From the JSON document of POST /api/v1/sql ({"columns":[...],"rows":[...]}).
  // InvalidArgument when the document has another shape.
  static Result<ResultTable> FromJson(const nlohmann::json& document);

  // The table, each line ending in "\n" (nothing for a result without columns).
  std::string Render() const;
};

}  // namespace seaway::cli

// Aligned text tables of query results (src/cli).
#include "cli/result_table.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "cli/terminal_text.h"

namespace seaway::cli {
namespace {

// Whether a text value would read like the NULL marker: NULL in any letter case, perhaps inside
// single quotes ('NULL', ''null''), the shape its quoted form takes.
bool LooksLikeNull(std::string_view text) {
  const size_t first = text.find_first_not_of('\'');
  const size_t last = text.find_last_not_of('\'');
  if (first == std::string_view::npos || last - first + 1 != 4) return false;
  std::string word(text.substr(first, 4));
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word == "NULL";
}

// `text` as a string literal, its quotes doubled: the text 'NULL' shows as '''NULL'''.
std::string Quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string CellText(const nlohmann::json& cell) {
  if (cell.is_null()) return "NULL";
  if (!cell.is_string()) return EscapeForTerminal(cell.dump());
  const auto& text = cell.get_ref<const std::string&>();
  return EscapeForTerminal(LooksLikeNull(text) ? Quoted(text) : text);
}

void Pad(std::string_view text, size_t width, bool right, std::string* out) {
  const size_t fill = width - std::min(width, DisplayWidth(text));
  if (right) out->append(fill, ' ');
  out->append(text);
  if (!right) out->append(fill, ' ');
}

}  // namespace

Result<ResultTable> ResultTable::FromJson(const nlohmann::json& document) {
  if (!document.is_object() || !document.contains("columns") || !document["columns"].is_array() ||
      !document.contains("rows") || !document["rows"].is_array()) {
    return InvalidArgument("the server's answer is not a query result (no columns and rows)");
  }
  ResultTable table;
  for (const auto& column : document["columns"]) {
    table.names.push_back(EscapeForTerminal(column.value("name", "")));
    const std::string type = column.value("type", "");
    table.numeric.push_back(type == "BIGINT" || type == "UBIGINT" || type == "DOUBLE");
  }
  for (const auto& row : document["rows"]) {
    if (!row.is_array() || row.size() != table.names.size()) {
      return InvalidArgument("a row of the server's answer does not match its columns");
    }
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const auto& cell : row) cells.push_back(CellText(cell));
    table.rows.push_back(std::move(cells));
  }
  return table;
}

std::string ResultTable::Render() const {
  if (names.empty()) return {};
  std::vector<size_t> widths(names.size());
  for (size_t c = 0; c < names.size(); ++c) widths[c] = DisplayWidth(names[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  std::string out;
  for (size_t c = 0; c < names.size(); ++c) {
    out.append(c == 0 ? " " : " | ");
    Pad(names[c], widths[c], numeric[c], &out);
  }
  while (out.back() == ' ') out.pop_back();
  out.push_back('\n');
  for (size_t c = 0; c < names.size(); ++c) {
    if (c > 0) out.push_back('+');
    out.append(widths[c] + 2, '-');
  }
  out.push_back('\n');
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out.append(c == 0 ? " " : " | ");
      Pad(row[c], widths[c], numeric[c], &out);
    }
    // No trailing blanks after a left-aligned last column.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out.push_back('\n');
  }
  return out;
}

}  // namespace seaway::cli

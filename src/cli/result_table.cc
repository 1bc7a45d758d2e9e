// Aligned text tables of query results (src/cli).
#include "cli/result_table.h"

#include <algorithm>

namespace seaway::cli {
namespace {

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;  // not a continuation byte
  }
  return width;
}

std::string CellText(const nlohmann::json& cell) {
  if (cell.is_null()) return "NULL";
  std::string text = cell.is_string() ? cell.get<std::string>() : cell.dump();
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out.push_back(c);
    }
  }
  return out;
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
    table.names.push_back(column.value("name", ""));
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

// Line protocol writer (src/ingest).
#include "ingest/line_protocol_writer.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

#include "common/check.h"
#include "storage/schema.h"

namespace seaway {
namespace {

// What a backslash escapes, per position; mirrors the parser (line_protocol.cc).
constexpr std::string_view kTableSpecials = ", ";
constexpr std::string_view kKeySpecials = ",= ";

void AppendEscaped(std::string_view s, std::string_view specials, std::string* out) {
  for (char c : s) {
    if (specials.find(c) != std::string_view::npos) out->push_back('\\');
    out->push_back(c);
  }
}

// What line protocol has no way to write, so that it would read back as something else.
template <typename... Args>
Status Unwritable(fmt::format_string<Args...> what, Args&&... args) {
  return InvalidArgument("{}, which line protocol cannot write",
                         fmt::format(what, std::forward<Args>(args)...));
}

// Table, tag keys and field names, checked and escaped once per batch.
struct EscapedNames {
  std::string table;
  std::vector<std::string> tag_keys;
  std::vector<std::string> fields;
};

Status CheckName(const WriteBatch& batch, std::string_view what, std::string_view name) {
  if (Status s = ValidateName(name, what); !s.ok()) {
    return s.WithContext(fmt::format("table '{}'", batch.table()));
  }
  if (name == "time") {
    return InvalidArgument("table '{}': 'time' cannot be a {} name", batch.table(), what);
  }
  if (name.back() == '\\') {
    return Unwritable("table '{}': {} name '{}' ends in a backslash", batch.table(), what, name);
  }
  return Status::OK();
}

Result<EscapedNames> EscapeNames(const WriteBatch& batch) {
  const std::string& table = batch.table();
  SW_RETURN_IF_ERROR(ValidateName(table, "table"));
  if (table.front() == '#') {
    return InvalidArgument("table name '{}' starts with '#': the line would read as a comment",
                           table);
  }
  if (table.back() == '\\') {
    return Unwritable("table name '{}' ends in a backslash", table);
  }
  EscapedNames names;
  AppendEscaped(table, kTableSpecials, &names.table);
  for (const std::string& key : batch.tag_keys()) {
    SW_RETURN_IF_ERROR(CheckName(batch, "tag", key));
    AppendEscaped(key, kKeySpecials, &names.tag_keys.emplace_back());
  }
  for (const FieldColumn& f : batch.fields()) {
    SW_RETURN_IF_ERROR(CheckName(batch, "field", f.name));
    AppendEscaped(f.name, kKeySpecials, &names.fields.emplace_back());
  }
  return names;
}

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];  // the longest shortest-form double, "-2.2250738585072014e-308", is 24 bytes
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  SW_CHECK(ec == std::errc());
  out->append(buf, end);
}

Status AppendFieldValue(const WriteBatch& batch, const FieldColumn& f, size_t row,
                        std::string* out) {
  const uint64_t bits = f.bits[row];
  switch (f.type) {
    case FieldType::kDouble: {
      const double v = std::bit_cast<double>(bits);
      if (!std::isfinite(v)) {
        return Unwritable("table '{}' row {}: field '{}' is {}", batch.table(), row + 1, f.name, v);
      }
      AppendNumber(v, out);
      break;
    }
    case FieldType::kInt64:
      AppendNumber(static_cast<int64_t>(bits), out);
      out->push_back('i');
      break;
    case FieldType::kUInt64:
      AppendNumber(bits, out);
      out->push_back('u');
      break;
    case FieldType::kBool: out->append(bits != 0 ? "true" : "false"); break;
    case FieldType::kString: {
      const std::string& s = f.strings[row];
      if (s.find('\n') != std::string::npos) {
        return Unwritable("table '{}' row {}: string field '{}' contains a newline", batch.table(),
                          row + 1, f.name);
      }
      out->push_back('"');
      for (char c : s) {
        if (c == '"' || c == '\\') out->push_back('\\');
        out->push_back(c);
      }
      out->push_back('"');
      break;
    }
  }
  return Status::OK();
}

// Appends one row; on error `*out` may hold part of it (the callers cut it off).
Status AppendRow(const WriteBatch& batch, const EscapedNames& names, size_t row, std::string* out) {
  out->append(names.table);
  for (size_t t = 0; t < names.tag_keys.size(); ++t) {
    const std::string_view value = batch.tag_values()[t][row];
    if (value.empty()) continue;  // the row lacks this tag
    if (value.find('\n') != std::string_view::npos) {
      return Unwritable("table '{}' row {}: tag '{}' value contains a newline", batch.table(),
                        row + 1, batch.tag_keys()[t]);
    }
    if (value.back() == '\\') {
      return Unwritable("table '{}' row {}: tag '{}' value ends in a backslash", batch.table(),
                        row + 1, batch.tag_keys()[t]);
    }
    out->push_back(',');
    out->append(names.tag_keys[t]);
    out->push_back('=');
    AppendEscaped(value, kKeySpecials, out);
  }
  char separator = ' ';
  for (size_t i = 0; i < names.fields.size(); ++i) {
    const FieldColumn& f = batch.fields()[i];
    if (f.present[row] == 0) continue;
    out->push_back(separator);
    separator = ',';
    out->append(names.fields[i]);
    out->push_back('=');
    SW_RETURN_IF_ERROR(AppendFieldValue(batch, f, row, out));
  }
  if (separator == ' ') {
    return InvalidArgument("table '{}' row {}: a row needs at least one field", batch.table(),
                           row + 1);
  }
  out->push_back(' ');
  AppendNumber(batch.times()[row], out);
  out->push_back('\n');
  return Status::OK();
}

}  // namespace

Status AppendLineProtocol(const WriteBatch& batch, std::string* out) {
  SW_ASSIGN_OR_RETURN(EscapedNames names, EscapeNames(batch));
  const size_t original_size = out->size();
  for (size_t row = 0; row < batch.rows(); ++row) {
    Status s = AppendRow(batch, names, row, out);
    if (!s.ok()) {
      out->resize(original_size);
      return s;
    }
  }
  return Status::OK();
}

Status AppendLineProtocolRow(const WriteBatch& batch, size_t row, std::string* out) {
  SW_CHECK(row < batch.rows());
  SW_ASSIGN_OR_RETURN(EscapedNames names, EscapeNames(batch));
  const size_t original_size = out->size();
  Status s = AppendRow(batch, names, row, out);
  if (!s.ok()) out->resize(original_size);
  return s;
}

}  // namespace seaway

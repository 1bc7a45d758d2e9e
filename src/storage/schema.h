// Schema of stored tables (src/storage): field types, the columns of a table, and the Catalog
// that maps tenant -> database -> table -> schema with schema-on-write.
//
// A table has a `time` column (ns since epoch), tag columns (strings; a distinct tag set is a
// series) and typed field columns. New tables, tags and fields are added as data arrives; a field
// written with another type than the stored one is rejected with an error naming table, field and
// both types. Dropping a table moves its name to the next generation, so that the name starts
// afresh (any types) and data of the dropped generation is recognised as such.
//
// Catalog is thread-safe. TableSchema values are thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "common/strong_id.h"

namespace seaway {

enum class FieldType : uint8_t {
  kDouble = 1,
  kInt64 = 2,
  kUInt64 = 3,
  kBool = 4,
  kString = 5,
};

// "float", "integer", "unsigned", "boolean", "string" (InfluxDB's names, which users know).
std::string_view FieldTypeName(FieldType type);
bool IsValidFieldType(uint8_t raw);

struct FieldSchema {
  std::string name;
  FieldType type;
};

struct TableSchema {
  std::string name;
  std::vector<std::string> tag_keys;  // in order of first appearance
  std::vector<FieldSchema> fields;    // in order of first appearance
  // The incarnation of the table: 0 for the first, one more after each DROP TABLE of the name.
  // WAL records and segments carry it; data of an older generation belongs to a dropped table.
  uint64_t generation = 0;

  // Index of a field or tag, or -1.
  int FindField(std::string_view name) const;
  int FindTag(std::string_view name) const;
};

// Limits on names, checked on every write (errors name the limit).
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxColumnsPerTable = 1024;

// Checks a database, table, tag or field name: 1..256 bytes, valid UTF-8 is not required but NUL
// and control characters are refused. `what` names it in errors ("table", "field 'x'").
Status ValidateName(std::string_view name, std::string_view what);

// (tenant, database, table).
using TableKey = std::tuple<uint64_t, std::string, std::string>;

class Catalog {
 public:
  // The schema of a table, or nullptr. The returned snapshot never changes.
  std::shared_ptr<const TableSchema> Find(TenantId tenant, std::string_view database,
                                          std::string_view table) const;

  // Makes sure `table` exists with at least these tags and fields, adding what is missing; a
  // new table gets the name's current generation. Fails with InvalidArgument, changing
  // nothing, when a field exists with another type or a tag and a field share a name. Returns
  // the current schema.
  Result<std::shared_ptr<const TableSchema>> Extend(TenantId tenant, std::string_view database,
                                                    std::string_view table,
                                                    const std::vector<std::string>& tag_keys,
                                                    const std::vector<FieldSchema>& fields);

  // What Extend would refuse, without changing anything: a field of another type than the
  // stored one, a name that is a tag on one side and a field on the other (the batch's own
  // columns included, for a new table too), too many columns.
  Status Check(TenantId tenant, std::string_view database, std::string_view table,
               const std::vector<std::string>& tag_keys,
               const std::vector<FieldSchema>& fields) const;

  // The generation of a table name: that of the table when it exists, else the one its next
  // incarnation will get (0 for a name never dropped). Data of a smaller generation belongs to a
  // dropped table.
  uint64_t Generation(TenantId tenant, std::string_view database, std::string_view table) const;

  // Forgets the table and moves its name to the next generation. Returns the dropped schema, or
  // NotFound naming table and database.
  Result<std::shared_ptr<const TableSchema>> Drop(TenantId tenant, std::string_view database,
                                                  std::string_view table);

  // Raises the generation of a name (loading the persisted catalog). REQUIRES: the table does
  // not exist yet.
  void RestoreGeneration(TenantId tenant, std::string_view database, std::string_view table,
                         uint64_t generation);
  // Every name whose generation is above 0 (the ones a persisted catalog must remember).
  std::map<TableKey, uint64_t> Generations() const;

  std::vector<std::string> ListDatabases(TenantId tenant) const;
  std::vector<std::string> ListTables(TenantId tenant, std::string_view database) const;

 private:
  using Key = TableKey;
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<const TableSchema>> tables_;
  std::map<Key, uint64_t> generations_;  // names dropped at least once
};

}  // namespace seaway

// Schema and Catalog (src/storage).
#include "storage/schema.h"

#include <algorithm>
#include <set>

namespace seaway {

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kDouble: return "float";
    case FieldType::kInt64: return "integer";
    case FieldType::kUInt64: return "unsigned";
    case FieldType::kBool: return "boolean";
    case FieldType::kString: return "string";
  }
  return "unknown";
}

bool IsValidFieldType(uint8_t raw) { return raw >= 1 && raw <= 5; }

int TableSchema::FindField(std::string_view n) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

int TableSchema::FindTag(std::string_view n) const {
  for (size_t i = 0; i < tag_keys.size(); ++i) {
    if (tag_keys[i] == n) return static_cast<int>(i);
  }
  return -1;
}

Status ValidateName(std::string_view name, std::string_view what) {
  if (name.empty()) return InvalidArgument("{} name is empty", what);
  if (name.size() > kMaxNameBytes) {
    return InvalidArgument("{} name is {} bytes, over the limit of {}", what, name.size(),
                           kMaxNameBytes);
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument("{} name contains a control character", what);
    }
  }
  return Status::OK();
}

std::shared_ptr<const TableSchema> Catalog::Find(TenantId tenant, std::string_view database,
                                                 std::string_view table) const {
  std::lock_guard lock(mu_);
  auto it = tables_.find(Key(tenant.value(), std::string(database), std::string(table)));
  return it == tables_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<const TableSchema>> Catalog::Extend(TenantId tenant,
                                                           std::string_view database,
                                                           std::string_view table,
                                                           const std::vector<std::string>& tag_keys,
                                                           const std::vector<FieldSchema>& fields) {
  std::lock_guard lock(mu_);
  Key key(tenant.value(), std::string(database), std::string(table));
  auto it = tables_.find(key);
  const TableSchema* current = it == tables_.end() ? nullptr : it->second.get();

  // Fast path: nothing new.
  if (current != nullptr) {
    bool complete = true;
    for (const auto& t : tag_keys) {
      if (current->FindTag(t) < 0) complete = false;
    }
    for (const auto& f : fields) {
      int i = current->FindField(f.name);
      if (i < 0) {
        complete = false;
      } else if (current->fields[i].type != f.type) {
        return InvalidArgument("table '{}' field '{}': type {} conflicts with stored type {}",
                               table, f.name, FieldTypeName(f.type),
                               FieldTypeName(current->fields[i].type));
      }
    }
    if (complete) return it->second;
  }

  auto next = std::make_shared<TableSchema>(current ? *current : TableSchema{std::string(table)});
  if (current == nullptr) {
    auto g = generations_.find(key);
    next->generation = g == generations_.end() ? 0 : g->second;
  }
  for (const auto& t : tag_keys) {
    if (next->FindTag(t) >= 0) continue;
    if (next->FindField(t) >= 0) {
      return InvalidArgument("table '{}': '{}' is already a field and cannot also be a tag", table,
                             t);
    }
    next->tag_keys.push_back(t);
  }
  for (const auto& f : fields) {
    if (next->FindField(f.name) >= 0) continue;
    if (next->FindTag(f.name) >= 0) {
      return InvalidArgument("table '{}': '{}' is already a tag and cannot also be a field", table,
                             f.name);
    }
    next->fields.push_back(f);
  }
  if (next->tag_keys.size() + next->fields.size() > kMaxColumnsPerTable) {
    return InvalidArgument("table '{}': {} columns would exceed the limit of {}", table,
                           next->tag_keys.size() + next->fields.size(), kMaxColumnsPerTable);
  }
  std::shared_ptr<const TableSchema> result = std::move(next);
  tables_[key] = result;
  return result;
}

Status Catalog::Check(TenantId tenant, std::string_view database, std::string_view table,
                      const std::vector<std::string>& tag_keys,
                      const std::vector<FieldSchema>& fields) const {
  // The batch's own columns first: a table that does not exist yet is checked by nothing else,
  // and the engine would refuse the whole batch of a table whose columns conflict.
  for (const auto& f : fields) {
    if (std::find(tag_keys.begin(), tag_keys.end(), f.name) != tag_keys.end()) {
      return InvalidArgument("table '{}': '{}' is both a tag and a field", table, f.name);
    }
  }
  std::shared_ptr<const TableSchema> current = Find(tenant, database, table);
  if (current == nullptr) {
    if (tag_keys.size() + fields.size() > kMaxColumnsPerTable) {
      return InvalidArgument("table '{}': {} columns would exceed the limit of {}", table,
                             tag_keys.size() + fields.size(), kMaxColumnsPerTable);
    }
    return Status::OK();
  }
  size_t added = 0;
  for (const auto& t : tag_keys) {
    if (current->FindTag(t) >= 0) continue;
    if (current->FindField(t) >= 0) {
      return InvalidArgument("table '{}': '{}' is already a field and cannot also be a tag", table,
                             t);
    }
    ++added;
  }
  for (const auto& f : fields) {
    const int i = current->FindField(f.name);
    if (i >= 0) {
      if (current->fields[i].type != f.type) {
        return InvalidArgument("table '{}' field '{}': type {} conflicts with stored type {}",
                               table, f.name, FieldTypeName(f.type),
                               FieldTypeName(current->fields[i].type));
      }
      continue;
    }
    if (current->FindTag(f.name) >= 0) {
      return InvalidArgument("table '{}': '{}' is already a tag and cannot also be a field", table,
                             f.name);
    }
    ++added;
  }
  const size_t columns = current->tag_keys.size() + current->fields.size() + added;
  if (columns > kMaxColumnsPerTable) {
    return InvalidArgument("table '{}': {} columns would exceed the limit of {}", table, columns,
                           kMaxColumnsPerTable);
  }
  return Status::OK();
}

uint64_t Catalog::Generation(TenantId tenant, std::string_view database,
                             std::string_view table) const {
  std::lock_guard lock(mu_);
  Key key(tenant.value(), std::string(database), std::string(table));
  if (auto it = tables_.find(key); it != tables_.end()) return it->second->generation;
  auto g = generations_.find(key);
  return g == generations_.end() ? 0 : g->second;
}

Result<std::shared_ptr<const TableSchema>> Catalog::Drop(TenantId tenant, std::string_view database,
                                                         std::string_view table) {
  std::lock_guard lock(mu_);
  Key key(tenant.value(), std::string(database), std::string(table));
  auto it = tables_.find(key);
  if (it == tables_.end()) {
    return NotFound("table '{}' does not exist in database '{}'", table, database);
  }
  std::shared_ptr<const TableSchema> dropped = std::move(it->second);
  tables_.erase(it);
  generations_[key] = dropped->generation + 1;
  return dropped;
}

void Catalog::RestoreGeneration(TenantId tenant, std::string_view database, std::string_view table,
                                uint64_t generation) {
  std::lock_guard lock(mu_);
  uint64_t& g = generations_[Key(tenant.value(), std::string(database), std::string(table))];
  g = std::max(g, generation);
}

std::map<TableKey, uint64_t> Catalog::Generations() const {
  std::lock_guard lock(mu_);
  return generations_;
}

std::vector<std::string> Catalog::ListDatabases(TenantId tenant) const {
  std::lock_guard lock(mu_);
  std::set<std::string> names;
  for (const auto& [key, schema] : tables_) {
    if (std::get<0>(key) == tenant.value()) names.insert(std::get<1>(key));
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> Catalog::ListTables(TenantId tenant, std::string_view database) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [key, schema] : tables_) {
    if (std::get<0>(key) == tenant.value() && std::get<1>(key) == database) {
      names.push_back(std::get<2>(key));
    }
  }
  return names;
}

}  // namespace seaway

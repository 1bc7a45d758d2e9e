// Text formats of generated rows (bench/datagen): InfluxDB line protocol, ClickHouse TSV, and
// the ClickHouse table that holds the TSV. Used by `seaway_datagen`.
//
// Line protocol: `measurement,tag=v,... field=1.25,count=3i <ns>` with tags sorted by key (as
// InfluxDB recommends). TSV: `YYYY-MM-DD hh:mm:ss` (UTC; the peer script runs ClickHouse with
// timezone UTC), the tags, then the fields, in schema order; the column type is DateTime, so
// timestamps must be whole seconds.
//
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "datagen/dataset.h"

namespace seaway::datagen {

class RowFormatter {
 public:
  explicit RowFormatter(const DatasetSchema& schema);

  void AppendLineProtocol(const Row& row, std::string* out);
  void AppendTsv(const Row& row, std::string* out);

  // CREATE TABLE `database`.`measurement` (...) ENGINE = MergeTree() PARTITION BY
  // toYYYYMMDD(ts) ORDER BY (primary tag, ts).
  std::string ClickHouseCreateTable(const std::string& database) const;

 private:
  void AppendValue(const Row& row, size_t field, std::string* out) const;

  const DatasetSchema& schema_;
  std::vector<size_t> sorted_tags_;  // tag indexes in key order
  int64_t cached_second_ = -1;
  std::string cached_datetime_;
};

}  // namespace seaway::datagen

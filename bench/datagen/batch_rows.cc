// AppendRow (bench/datagen).
#include "datagen/batch_rows.h"

#include <unistd.h>

namespace seaway::datagen {

Status AppendRow(const DatasetSchema& schema, const Row& row, WriteBatch* batch) {
  batch->AddRow(row.time_ns);
  for (size_t t = 0; t < schema.tag_keys.size(); ++t) {
    SW_RETURN_IF_ERROR(batch->SetTag(schema.tag_keys[t], row.tags[t]));
  }
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSpec& f = schema.fields[i];
    SW_RETURN_IF_ERROR(f.is_integer ? batch->SetInt64(f.name, row.values[i])
                                    : batch->SetDouble(f.name, row.FloatValue(i, f.decimals)));
  }
  return Status::OK();
}

Status WriteAll(Generator* gen, Engine* engine, size_t batch_rows) {
  const DatasetSchema& schema = gen->schema();
  Row row;
  bool more = true;
  while (more) {
    WriteBatch batch(TenantId(1), "main", schema.measurement);
    while (batch.rows() < batch_rows && (more = gen->Next(&row))) {
      SW_RETURN_IF_ERROR(AppendRow(schema, row, &batch));
    }
    if (batch.rows() == 0) break;
    Status s;
    while ((s = engine->Write(batch)).code() == StatusCode::kUnavailable) usleep(1000);
    SW_RETURN_IF_ERROR(s);
  }
  return Status::OK();
}

}  // namespace seaway::datagen

// Generated rows into WriteBatches (bench/datagen): the one place the storage benchmarks turn a
// datagen::Row into a row of a WriteBatch, so that every benchmark writes the same columns.
#pragma once

#include "common/status.h"
#include "datagen/dataset.h"
#include "storage/engine.h"
#include "storage/write_batch.h"

namespace seaway::datagen {

// Appends `row` (tags and fields of `schema`) as a new row of `batch`.
Status AppendRow(const DatasetSchema& schema, const Row& row, WriteBatch* batch);

// Writes every remaining row of `gen` into `engine` (tenant 1, database "main") in batches of
// `batch_rows`, retrying batches the engine refuses with "retry later".
Status WriteAll(Generator* gen, Engine* engine, size_t batch_rows = 5000);

}  // namespace seaway::datagen

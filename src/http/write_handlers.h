// Write routes of the HTTP front end (src/http): the InfluxDB-compatible write paths.
//
//   POST /write?db=D[&rp=..][&precision=ns|u|ms|s][&u=..&p=TOKEN]          (InfluxDB 1.x)
//   POST /api/v2/write?bucket=D[&org=..][&precision=ns|us|ms|s]            (InfluxDB 2.x)
//   POST /api/v1/telemetry[?db=D]           JSON telemetry: an object, an array or NDJSON
//                                           (ingest/json_telemetry.h); D defaults to "main"
//   GET|HEAD /ping                                   204, as InfluxDB answers its clients' probe
//
// The body is line protocol (or JSON for /api/v1/telemetry), plain or `Content-Encoding: gzip`. The
// caller's token
// (`Authorization: Token T` or `Bearer T`, or the 1.x `p` parameter) names the tenant; `db` or
// `bucket` names a database of that tenant, created on first write. The reply comes after the
// rows are durable: 204 when every line was stored; 400 with each rejected line's number and
// reason (the first 20, and how many more) when some were not, the others being stored; 401
// without a valid token; 413 over the body limit; 429 naming the limit when the tenant is at its
// series limit; 503 with Retry-After when the engine asks to retry later; 507 when the disk is
// full. Rows for a table that a thing model declares must follow the model (platform/
// thing_model.h ValidateModelTables): a line or item that does not is rejected, named with its
// number and the field, value and limit, like a malformed one.
#pragma once

#include "common/clock.h"
#include "common/metrics.h"
#include "http/router.h"
#include "ingest/ingest_result.h"
#include "platform/metadata_store.h"
#include "platform/model_cache.h"
#include "platform/quota_enforcer.h"
#include "storage/engine.h"

namespace seaway {

struct WriteRoutesContext {
  Engine* engine = nullptr;
  MetadataStore* metadata = nullptr;
  const Clock* clock = nullptr;
  MetricsRegistry* metrics = nullptr;
  uint64_t max_body_bytes = 25 * 1024 * 1024;  // after gzip decompression too
  IngestLimits limits;                         // per line / item of a body
  QuotaEnforcer* quotas = nullptr;             // when set: messages_per_s, stored_bytes (429)
  ModelCache* models = nullptr;                // when set: model tables are validated
};

// Adds the write routes. `context` and what it points to must outlive the router.
void AddWriteRoutes(Router* router, const WriteRoutesContext* context);

// The token of a request, or empty: `Authorization: Token T`, `Bearer T` or `Basic
// base64(user:T)` (any user), else the `p` query parameter.
std::string RequestToken(const HttpRequest& request);

// Inflates a gzip body; ResourceExhausted past `limit` bytes, InvalidArgument when malformed.
Result<std::string> Gunzip(std::string_view body, uint64_t limit);

// The request's body, inflated into *inflated when it is `Content-Encoding: gzip` (`identity`
// or none: the body as sent); otherwise *refusal is the answer to send: 415 for another
// encoding, 413 past `limit` bytes inflated, 400 when the gzip is malformed.
Result<std::string_view> DecodedBody(const HttpRequest& request, uint64_t limit,
                                     std::string* inflated, HttpResponse* refusal);

}  // namespace seaway

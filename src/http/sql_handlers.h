// The SQL endpoint of the HTTP front end (src/http): runs queries of the caller's tenant.
//
//   POST /api/v1/sql[?format=json|csv|ndjson]   body {"query":"SELECT ...","database":"main"}
//                                               (also "format"; any other key is a 400),
//                                               plain or `Content-Encoding: gzip`
//   GET  /api/v1/sql?q=SELECT...[&db=main][&format=...]
//
// The token (`Authorization: Token T` or `Bearer T`, as for writes) names the tenant; without
// one the answer is 401. The result is JSON by default, CSV or NDJSON on request; the cell and
// document shapes are those of query/result_format.h. A result small enough (under
// `flush_bytes`) is sent whole with its Content-Length; a larger one streams with chunked
// transfer encoding as the query produces it, so the server holds one chunk, never the result.
//
// Errors are {"error":"...","code":"..."} with the status of SqlHttpStatus: 400 for syntax and
// type errors (the message carries line, column and a caret excerpt), 404 for an unknown table
// or database, 422 when the query hits its time or memory limit, 503 with Retry-After when too
// many queries are running and waiting. A query that fails after its response has started
// streaming ends the body with an error record (query/result_format.h) and the response is cut
// short (no last chunk), so that HTTP clients also see an incomplete transfer.
//
// Queries run on the service's own threads, never on the HTTP I/O threads, so a slow query does
// not hold up writes; `threads` run at once and `max_queued` more may wait.
//
// A query's time limit (`timeout`) counts from its arrival, so time spent waiting in the queue
// counts too. A query still queued at its deadline is answered 503 (with Retry-After: it did not
// run, and may succeed once the threads are free) saying how long it waited; a running one fails
// with 422, also when its thread is blocked writing the response to a client that does not read:
// the response is then cut (within `stream_grace` of the deadline) and the thread freed. A query
// whose client disconnects is dropped from the queue at once, or cancelled at its next check
// while it runs, and counted as ClientGone.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "http/router.h"
#include "platform/metadata_store.h"
#include "platform/tenant_settings_cache.h"
#include "query/query_engine.h"

namespace seaway {

struct SqlServiceOptions {
  std::chrono::milliseconds timeout{30'000};    // --sql-timeout-ms
  size_t max_memory_bytes = size_t{256} << 20;  // --sql-max-memory-mb
  int threads = 2;                              // queries running at once (--sql-threads)
  int max_queued = 16;                          // queries waiting; more get 503 (--sql-max-queued)
  size_t flush_bytes = 64 * 1024;               // a streamed response's chunk size
  uint64_t max_body_bytes = 25 * 1024 * 1024;   // a request body after gzip decompression
  // How long past its deadline a query's response may still take to be written: room for the
  // error record of a query that timed out while streaming.
  std::chrono::milliseconds stream_grace{250};
  // When set: each tenant's time_zone setting is its queries' default zone (must outlive the
  // service).
  TenantSettingsCache* tenant_settings = nullptr;
};

// The HTTP status of a query error: the SQL endpoint's mapping table.
int SqlHttpStatus(StatusCode code);

class SqlService {
 public:
  // `queries`, `metadata` and `metrics` must outlive the service. Starts the query threads.
  SqlService(const query::QueryEngine* queries, MetadataStore* metadata, MetricsRegistry* metrics,
             SqlServiceOptions options);
  ~SqlService();
  SqlService(const SqlService&) = delete;
  SqlService& operator=(const SqlService&) = delete;

  // Adds /api/v1/sql. The service must outlive the router's use.
  void AddRoutes(Router* router);

  // Refuses new queries (503), answers the waiting ones 503, cancels the running ones and joins
  // the threads once they end. Idempotent.
  void Stop();

  struct Job;

 private:
  void Handle(const HttpRequest& request, HttpReply reply);
  // On an I/O thread: drops `job` if it is still queued, else cancels it if it is running.
  void OnClientGone(const Job* job);
  void Run(Job& job);
  void Work();
  // Answers the queued queries that reach their deadline (the "sw-sql-expire" thread).
  void ExpireQueued();
  void AnswerExpired(Job& job);
  void Count(std::string_view status, int64_t enqueued_ns);

  const query::QueryEngine* const queries_;
  MetadataStore* const metadata_;
  MetricsRegistry* const metrics_;
  const SqlServiceOptions options_;
  Histogram* duration_;
  Gauge* queued_gauge_;
  Gauge* running_gauge_;

  // Lock order: an HttpClientWatch's lock, then mu_ (OnClientGone runs under the first). Jobs are
  // destroyed, and so detached from their watch, outside mu_.
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable expire_;  // the service stops (ExpireQueued polls otherwise)
  bool stopping_ = false;
  std::vector<Job*> running_;               // each running query's cancel flag is set by Stop
  std::deque<std::unique_ptr<Job>> queue_;  // in arrival order, hence in deadline order
  std::vector<std::thread> threads_;
  std::thread expirer_;
};

}  // namespace seaway

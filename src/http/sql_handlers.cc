// The SQL endpoint (src/http): request parsing, the query threads, and result streaming.
#include "http/sql_handlers.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/logging.h"
#include "http/write_handlers.h"
#include "query/result_format.h"

namespace seaway {

using SteadyClock = std::chrono::steady_clock;

struct SqlService::Job {
  explicit Job(HttpReply r) : reply(std::move(r)) {}
  // Detaches from the client's watch, waiting for a callback in progress (see OnClientGone).
  ~Job() {
    if (client) client->OnGone(nullptr);
  }

  std::string sql;
  query::QueryOptions options;
  query::ResultFormat format = query::ResultFormat::kJson;
  HttpReply reply;
  int64_t enqueued_ns = 0;  // Clock::Real(), for the duration histogram
  SteadyClock::time_point arrived;
  SteadyClock::time_point deadline;         // arrived + the timeout: queue time counts
  std::shared_ptr<HttpClientWatch> client;  // null without a socket
  std::atomic<bool> cancel{false};          // the server stops or the client went
};

namespace {

int64_t MillisBetween(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

// The query engine's own timeout message counts from when the query started to run; this one
// counts from its arrival, as the limit does.
Status TimedOut(SteadyClock::time_point arrived, SteadyClock::time_point started,
                std::chrono::milliseconds limit) {
  const auto now = SteadyClock::now();
  return ResourceExhausted(
      "query timed out after {} ms (limit: --sql-timeout-ms, {} ms from its arrival; it waited "
      "in the queue for {} ms)",
      MillisBetween(arrived, now), limit.count(), MillisBetween(arrived, started));
}

bool IsEngineTimeout(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted &&
         s.message().find("--sql-timeout-ms") != std::string::npos;
}

const std::vector<double> kDurationBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10,   30};

HttpResponse SqlError(const Status& s) {
  HttpResponse r =
      HttpResponse::Error(SqlHttpStatus(s.code()), StatusCodeName(s.code()), s.message());
  if (s.code() == StatusCode::kUnavailable) r.headers.emplace_back("Retry-After", "1");
  if (s.code() == StatusCode::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Token");
  return r;
}

// What a request asks: its statement, database and result format.
struct SqlRequest {
  std::string sql;
  std::string database = "main";
  query::ResultFormat format = query::ResultFormat::kJson;
};

// Reads the statement from `q` (GET, or POST without a body) or from the JSON `body`
// {"query":"...","database":"...","format":"..."}; `db` and `format` parameters also apply.
Result<SqlRequest> ParseSqlRequest(const HttpRequest& request, std::string_view body_text) {
  SqlRequest out;
  std::string format = request.QueryParam("format").value_or("");
  if (auto q = request.QueryParam("q")) out.sql = *q;
  if (auto db = request.QueryParam("db")) out.database = *db;
  if (request.method == HttpMethod::kPost && !body_text.empty()) {
    nlohmann::json body = nlohmann::json::parse(body_text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      return InvalidArgument("{}", R"(the body must be a JSON object such as )"
                                   R"({"query":"SELECT 1","database":"main"})");
    }
    // A misspelt key would otherwise be dropped silently: {"db":"plant"} querying "main".
    for (const auto& [key, value] : body.items()) {
      if (key != "query" && key != "database" && key != "format") {
        return InvalidArgument(
            R"(unknown key "{}" in the JSON body (the accepted keys are "query", "database" and )"
            R"("format"))",
            key);
      }
    }
    auto text_member = [&](const char* name, std::string* into) -> Status {
      auto it = body.find(name);
      if (it == body.end() || it->is_null()) return Status::OK();
      if (!it->is_string()) return InvalidArgument("'{}' must be a string", name);
      *into = it->get<std::string>();
      return Status::OK();
    };
    SW_RETURN_IF_ERROR(text_member("query", &out.sql));
    SW_RETURN_IF_ERROR(text_member("database", &out.database));
    if (format.empty()) SW_RETURN_IF_ERROR(text_member("format", &format));
  }
  if (out.sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return InvalidArgument("{}", request.method == HttpMethod::kPost
                                     ? R"(missing query: send {"query":"SELECT ..."})"
                                     : "missing query: pass it as the 'q' parameter");
  }
  if (out.database.empty()) return InvalidArgument("the database name must not be empty");
  if (!format.empty()) {
    SW_ASSIGN_OR_RETURN(out.format, query::ParseResultFormat(format));
  }
  return out;
}

}  // namespace

int SqlHttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return 400;    // syntax, types, unknown functions
    case StatusCode::kNotFound: return 404;           // unknown table or database
    case StatusCode::kResourceExhausted: return 422;  // the query's time or memory limit
    case StatusCode::kUnavailable: return 503;        // too many queries, or stopping
    default: return HttpStatusFor(code);
  }
}

SqlService::SqlService(const query::QueryEngine* queries, MetadataStore* metadata,
                       MetricsRegistry* metrics, SqlServiceOptions options)
    : queries_(queries), metadata_(metadata), metrics_(metrics), options_(options) {
  duration_ = metrics_->GetHistogram("seaway_sql_query_duration_seconds",
                                     "Time from a query's arrival to its last byte handed over",
                                     kDurationBounds);
  queued_gauge_ = metrics_->GetGauge("seaway_sql_queries_queued", "Queries waiting for a thread");
  running_gauge_ = metrics_->GetGauge("seaway_sql_queries_running", "Queries running");
  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      pthread_setname_np(pthread_self(), fmt::format("sw-sql-{}", i).c_str());
      Work();
    });
  }
  expirer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sw-sql-expire");
    ExpireQueued();
  });
}

SqlService::~SqlService() { Stop(); }

void SqlService::Stop() {
  std::deque<std::unique_ptr<Job>> refused;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (Job* job : running_) job->cancel.store(true);
    refused.swap(queue_);
    queued_gauge_->Set(0);
  }
  work_.notify_all();
  expire_.notify_all();
  for (auto& job : refused) {
    job->reply.Send(SqlError(Unavailable("the server is stopping")));
    Count("Unavailable", job->enqueued_ns);
  }
  if (expirer_.joinable()) expirer_.join();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void SqlService::AddRoutes(Router* router) {
  auto handler = [this](const HttpRequest& request, HttpReply reply) {
    Handle(request, std::move(reply));
  };
  router->Add(HttpMethod::kPost, "/api/v1/sql", "sql", "data.read", handler);
  router->Add(HttpMethod::kGet, "/api/v1/sql", "sql", "data.read", handler);
}

void SqlService::Count(std::string_view status, int64_t enqueued_ns) {
  metrics_
      ->GetCounter("seaway_sql_queries_total", "SQL queries answered, by outcome",
                   {{"status", std::string(status)}})
      ->Increment();
  if (enqueued_ns != 0) {
    duration_->Observe(static_cast<double>(Clock::Real()->MonotonicNanos() - enqueued_ns) / 1e9);
  }
}

// On an HTTP I/O thread: authenticate, parse, and queue; the query runs on a service thread.
void SqlService::Handle(const HttpRequest& request, HttpReply reply) {
  const std::string token = RequestToken(request);
  if (token.empty()) {
    Count("Unauthenticated", 0);
    return reply.Send(SqlError(
        Unauthenticated("missing token: send 'Authorization: Token <token>' (or Bearer)")));
  }
  Result<Principal> who = metadata_->AuthenticatePrincipal(token);
  if (!who.ok()) {
    Count("Unauthenticated", 0);
    return reply.Send(SqlError(Unauthenticated("invalid token")));
  }
  if (!who->Can(Permission::kDataRead)) {
    Count("PermissionDenied", 0);
    return reply.Send(SqlError(who->Refusal(Permission::kDataRead)));
  }
  // A customer's user reads its devices' series only (docs/security.md).
  Result<std::optional<std::vector<std::string>>> devices = VisibleDeviceNames(metadata_, *who);
  if (!devices.ok()) {
    Count(StatusCodeName(devices.status().code()), 0);
    return reply.Send(SqlError(devices.status()));
  }
  std::string inflated;
  HttpResponse refusal;
  Result<std::string_view> body =
      DecodedBody(request, options_.max_body_bytes, &inflated, &refusal);
  if (!body.ok()) {
    Count(StatusCodeName(body.status().code()), 0);
    return reply.Send(std::move(refusal));
  }
  Result<SqlRequest> parsed = ParseSqlRequest(request, *body);
  if (!parsed.ok()) {
    Count(StatusCodeName(parsed.status().code()), 0);
    return reply.Send(SqlError(parsed.status()));
  }
  std::string time_zone;
  if (options_.tenant_settings != nullptr) {
    Result<TenantSettings> settings = options_.tenant_settings->Get(who->tenant);
    if (!settings.ok()) {
      Count(StatusCodeName(settings.status().code()), 0);
      return reply.Send(SqlError(settings.status()));
    }
    time_zone = std::move(settings->time_zone);
  }

  auto job = std::make_unique<Job>(std::move(reply));
  job->sql = std::move(parsed->sql);
  job->format = parsed->format;
  job->enqueued_ns = Clock::Real()->MonotonicNanos();
  job->arrived = SteadyClock::now();
  job->deadline = job->arrived + options_.timeout;
  job->options.tenant = who->tenant;
  job->options.devices = std::move(*devices);
  job->options.time_zone = std::move(time_zone);
  job->options.database = std::move(parsed->database);
  job->options.cancel = &job->cancel;
  job->options.max_memory_bytes = options_.max_memory_bytes;
  // Before the job is queued, so that the callback is detached (~Job) whatever becomes of it. The
  // callback finds the job by address in the queue or among the running ones, never otherwise.
  job->client = request.client;
  if (job->client) job->client->OnGone([this, id = job.get()] { OnClientGone(id); });
  bool stopping;
  {
    std::unique_lock lock(mu_);
    stopping = stopping_;
    const bool full = static_cast<int>(queue_.size()) >= options_.max_queued &&
                      running_.size() >= threads_.size();
    if (!stopping_ && !full) {
      queue_.push_back(std::move(job));
      queued_gauge_->Set(static_cast<double>(queue_.size()));
      lock.unlock();
      work_.notify_one();  // the expiry thread is not told (ExpireQueued)
      return;
    }
  }
  Count("Rejected", 0);
  metrics_
      ->GetCounter("seaway_http_overload_total",
                   "Requests refused with 503 because the server was at a limit",
                   {{"limit", "sql_queries"}})
      ->Increment();
  job->reply.Send(SqlError(stopping ? Unavailable("the server is stopping")
                                    : Unavailable("too many SQL queries: {} running and {} waiting "
                                                  "(--sql-threads, --sql-max-queued); retry later",
                                                  threads_.size(), options_.max_queued)));
}

void SqlService::OnClientGone(const Job* id) {
  std::unique_ptr<Job> dropped;
  {
    std::lock_guard lock(mu_);
    auto queued = std::find_if(queue_.begin(), queue_.end(),
                               [id](const std::unique_ptr<Job>& job) { return job.get() == id; });
    if (queued != queue_.end()) {
      dropped = std::move(*queued);
      queue_.erase(queued);
      queued_gauge_->Set(static_cast<double>(queue_.size()));
    } else if (auto running = std::find(running_.begin(), running_.end(), id);
               running != running_.end()) {
      (*running)->cancel.store(true);  // stops at the query's next check; Run counts it
    }
  }
  if (!dropped) return;
  dropped->client.reset();  // this callback runs under the watch's lock: ~Job must not wait
  Count("ClientGone", dropped->enqueued_ns);
  dropped->reply.Send(SqlError(Unavailable("the client closed the connection")));
}

void SqlService::Work() {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      job = std::move(queue_.front());
      queue_.pop_front();
      running_.push_back(job.get());
      queued_gauge_->Set(static_cast<double>(queue_.size()));
      running_gauge_->Set(static_cast<double>(running_.size()));
    }
    if (job->client != nullptr && job->client->gone()) {
      Count("ClientGone", job->enqueued_ns);
      job->reply.Send(SqlError(Unavailable("the client closed the connection")));
    } else if (SteadyClock::now() >= job->deadline) {
      AnswerExpired(*job);
    } else {
      Run(*job);
    }
    {
      std::lock_guard lock(mu_);
      running_.erase(std::find(running_.begin(), running_.end(), job.get()));
      running_gauge_->Set(static_cast<double>(running_.size()));
    }
    job.reset();  // outside mu_ (lock order)
  }
}

void SqlService::ExpireQueued() {
  // Waking this thread for every query queued would cost a context switch on every small query.
  // It need not: a query queued while the queue is empty expires a whole timeout after it came,
  // so a thread that found the queue empty sleeps a timeout (at least 1 ms) before looking again.
  const auto idle_wait =
      std::max<std::chrono::milliseconds>(options_.timeout, std::chrono::milliseconds(1));
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      expire_.wait_for(lock, idle_wait);
      continue;
    }
    const auto now = SteadyClock::now();
    if (now < queue_.front()->deadline) {
      // A copy: a query thread may take (and free) the job while this waits.
      const auto deadline = queue_.front()->deadline;
      expire_.wait_until(lock, deadline);
      continue;
    }
    std::vector<std::unique_ptr<Job>> expired;
    while (!queue_.empty() && queue_.front()->deadline <= now) {
      expired.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_gauge_->Set(static_cast<double>(queue_.size()));
    lock.unlock();
    for (auto& job : expired) AnswerExpired(*job);
    expired.clear();  // outside mu_ (lock order)
    lock.lock();
  }
}

// A query still waiting at its deadline did not run: 503, as for a full queue, since the same
// query may well succeed once the threads are free.
void SqlService::AnswerExpired(Job& job) {
  Count("QueueTimeout", job.enqueued_ns);
  job.reply.Send(SqlError(
      Unavailable("the query waited in the queue for {} ms and was not run: its time limit of {} "
                  "ms (--sql-timeout-ms) counts from its arrival, and all {} SQL threads were "
                  "busy; retry later",
                  MillisBetween(job.arrived, SteadyClock::now()), options_.timeout.count(),
                  std::max(1, options_.threads))));
}

// On a query thread: runs the statement and answers, streaming once the output passes
// flush_bytes.
void SqlService::Run(Job& job) {
  const SteadyClock::time_point started = SteadyClock::now();
  // The engine counts its timeout from now: what is left of the query's.
  job.options.timeout =
      std::max(std::chrono::milliseconds(1),
               std::chrono::ceil<std::chrono::milliseconds>(job.deadline - started));
  std::unique_ptr<query::ResultWriter> writer = query::MakeResultWriter(job.format);
  const std::string content_type(query::ResultContentType(job.format));
  std::string buffer;
  std::unique_ptr<HttpResponseStream> stream;
  bool stream_cut = false;  // the client is gone, or was too slow to take the response
  bool client_gone = false;
  auto flush = [&]() -> Status {
    if (!stream) {
      HttpResponse head = HttpResponse::Text(200, "", content_type);
      head.headers.emplace_back("Cache-Control", "no-store");
      // A client that stops reading must not hold this thread past the query's deadline.
      head.send_deadline = job.deadline + options_.stream_grace;
      stream = job.reply.StartStream(std::move(head));
    }
    if (!stream->Write(buffer)) {
      stream_cut = true;
      if (SteadyClock::now() >= job.deadline) {
        return TimedOut(job.arrived, started, options_.timeout);
      }
      client_gone = true;
      return Unavailable("the client closed the connection");
    }
    buffer.clear();
    return Status::OK();
  };
  Status s = queries_->ExecuteStreaming(
      job.sql, job.options,
      [&](const std::vector<query::ColumnInfo>& columns) {
        writer->Begin(columns, &buffer);
        return Status::OK();
      },
      [&](const query::DataChunk& chunk) -> Status {
        writer->Rows(chunk, &buffer);
        return buffer.size() >= options_.flush_bytes ? flush() : Status::OK();
      });

  if (s.ok()) {
    writer->End(&buffer);
    if (!stream) {
      Count("ok", job.enqueued_ns);
      HttpResponse r = HttpResponse::Text(200, std::move(buffer), content_type);
      r.headers.emplace_back("Cache-Control", "no-store");
      return job.reply.Send(std::move(r));
    }
    s = flush();
    if (s.ok()) {
      Count("ok", job.enqueued_ns);
      return stream->Finish(true);
    }
  }
  // The client's cancellation (OnClientGone) stops the engine with Unavailable.
  if (job.client != nullptr && job.client->gone()) client_gone = true;
  if (!stream_cut && IsEngineTimeout(s)) s = TimedOut(job.arrived, started, options_.timeout);
  Count(client_gone ? "ClientGone" : StatusCodeName(s.code()), job.enqueued_ns);
  if (!stream) return job.reply.Send(SqlError(s));  // nothing sent yet: a real status
  if (!stream_cut) {
    writer->Fail(s, &buffer);
    (void)flush();
  }
  stream->Finish(false);
}

}  // namespace seaway

// InfluxDB-compatible write routes (src/http).
#include "http/write_handlers.h"

#include <strings.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "common/version.h"
#include "ingest/json_telemetry.h"
#include "ingest/line_protocol.h"

namespace seaway {
namespace {

constexpr size_t kMaxReportedLines = 20;

// Standard base64 (RFC 4648, '=' padding optional); nullopt on any other character.
std::optional<std::string> DecodeBase64(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

HttpResponse Unauthorized(std::string_view why) {
  HttpResponse r = HttpResponse::Error(401, "Unauthenticated", why);
  r.headers.emplace_back("WWW-Authenticate", "Token");
  return r;
}

// How an ingest format names its items in partial-write replies and in metrics.
struct IngestFormat {
  std::string_view item;           // "line" or "item", in partial-write replies
  std::string_view stored_metric;  // counters per tenant
  std::string_view stored_help;
  std::string_view rejected_metric;
  std::string_view rejected_help;
};

constexpr IngestFormat kLineProtocolFormat{
    "line", "seaway_ingest_lines_total", "Line-protocol lines stored",
    "seaway_ingest_rejected_lines_total", "Line-protocol lines rejected"};
constexpr IngestFormat kJsonFormat{
    "item", "seaway_ingest_json_items_total", "JSON telemetry items stored",
    "seaway_ingest_json_rejected_items_total", "JSON telemetry items rejected"};

// The JSON body of a partial write: which lines (items) were rejected, and why.
HttpResponse PartialWrite(const IngestResult& parsed, const IngestFormat& format) {
  std::string rejected;
  for (size_t i = 0; i < parsed.errors.size() && i < kMaxReportedLines; ++i) {
    if (!rejected.empty()) rejected.push_back(',');
    rejected += fmt::format(R"({{"{}":{},"error":"{}"}})", format.item, parsed.errors[i].line,
                            JsonEscape(parsed.errors[i].message));
  }
  const size_t more =
      parsed.errors.size() > kMaxReportedLines ? parsed.errors.size() - kMaxReportedLines : 0;
  return HttpResponse::Json(
      400,
      fmt::format(R"({{"error":"partial write: {} {}(s) rejected, {} stored; first: {} {}: {}",)"
                  R"("code":"InvalidArgument","rejected":[{}],"rejected_more":{}}})",
                  parsed.errors.size(), format.item, parsed.points, format.item,
                  parsed.errors[0].line, JsonEscape(parsed.errors[0].message), rejected, more));
}

HttpResponse EngineError(const Status& s) {
  HttpResponse r = HttpResponse::FromStatus(s);
  if (s.code() == StatusCode::kUnavailable) {
    r.status = 503;
    r.headers.emplace_back("Retry-After", "1");
  } else if (s.code() == StatusCode::kFailedPrecondition) {
    r.status = 503;  // a read-only shard: the server cannot take writes now
  } else if (s.code() == StatusCode::kResourceExhausted) {
    r.status = IsDiskFull(s) ? 507 : 429;  // disk full, or a limit such as series per tenant
  }
  return r;
}

// The tenant of a request's token, or the 401 reply to send.
Result<TenantId> Authenticate(const WriteRoutesContext* ctx, const HttpRequest& request,
                              HttpResponse* refusal) {
  const std::string token = RequestToken(request);
  if (token.empty()) {
    *refusal = Unauthorized(
        "missing token: send 'Authorization: Token <token>' (or the 'p' query parameter)");
    return Unauthenticated("missing token");
  }
  Result<TenantId> tenant = ctx->metadata->Authenticate(token);
  if (!tenant.ok()) {
    *refusal = Unauthorized("invalid token");
    return tenant;
  }
  if (ctx->quotas != nullptr) {
    // One write request is one message of the tenant's messages_per_s quota.
    if (Status admitted = ctx->quotas->AdmitMessages(*tenant, ""); !admitted.ok()) {
      *refusal = HttpResponse::FromStatus(admitted);
      refusal->headers.emplace_back("Retry-After", "1");
      return admitted;
    }
  }
  return tenant;
}

void StoreDecoded(const WriteRoutesContext* ctx, TenantId tenant, const IngestFormat& format,
                  std::shared_ptr<IngestResult> parsed, HttpReply reply);

// Rows written to kSystemDatabase were acknowledged and could never be read.
HttpResponse SystemDatabaseRefusal(std::string_view param) {
  return HttpResponse::Error(
      400, "InvalidArgument",
      fmt::format("'{}': database 'system' is reserved for SQL's system tables (system.tables, "
                  "system.series); write to another database",
                  param));
}

// The columns of one table that the items accepted so far use (SeparateRefusedItems).
struct TableColumns {
  std::vector<std::string> tags;
  std::vector<FieldSchema> fields;
};

// The columns of `item`'s table after `item`, given `base` (the table's so far), when `item`
// adds any: nullopt when it adds none. Checks the union, so that an item is refused when it
// conflicts with an earlier item of the body: a field of another type, a tag of an earlier
// field's name (or the reverse), one column too many for a new table.
Result<std::optional<TableColumns>> AddColumns(const Engine& engine, const WriteBatch& item,
                                               const TableColumns& base) {
  auto has_tag = [](const TableColumns& c, std::string_view name) {
    return std::find(c.tags.begin(), c.tags.end(), name) != c.tags.end();
  };
  auto field = [](const TableColumns& c, std::string_view name) {
    return std::find_if(c.fields.begin(), c.fields.end(),
                        [&](const FieldSchema& s) { return s.name == name; });
  };
  bool adds = false;
  for (const std::string& tag : item.tag_keys()) adds = adds || !has_tag(base, tag);
  for (const FieldColumn& f : item.fields()) {
    auto it = field(base, f.name);
    if (it == base.fields.end()) {
      adds = true;
    } else if (it->type != f.type) {
      return InvalidArgument(
          "table '{}' field '{}': type {} conflicts with type {} earlier in the request",
          item.table(), f.name, FieldTypeName(f.type), FieldTypeName(it->type));
    }
  }
  if (!adds) return std::optional<TableColumns>();
  TableColumns next = base;
  for (const std::string& tag : item.tag_keys()) {
    if (!has_tag(next, tag)) next.tags.push_back(tag);
  }
  for (const FieldColumn& f : item.fields()) {
    if (field(next, f.name) == next.fields.end()) next.fields.push_back({f.name, f.type});
  }
  // The union as one batch: a tag of an earlier item's field name, too many columns.
  SW_RETURN_IF_ERROR(
      engine.catalog().Check(item.tenant(), item.database(), item.table(), next.tags, next.fields));
  return std::optional<TableColumns>(std::move(next));
}

// Rejects the lines or items that would be refused for their content: rows that do not follow
// the thing model of their table (platform/thing_model.h ValidateModelTables), or that conflict
// with the stored schema, with each other (a tag and a field of one name, too many columns) or
// lie outside the storable times (Engine::CheckWrite). Costs a catalog lookup per batch, plus
// one in-memory lookup per request for a tenant without models; only when a batch fails is the
// body decoded again item by item (each item's own text, as the whole body's decode numbers
// it), to name each bad one and store the others. Unavailable when the models cannot be read
// (the client retries: nothing was stored).
Status SeparateRefusedItems(
    const WriteRoutesContext* ctx, TenantId tenant, std::string_view body,
    std::vector<std::pair<size_t, std::string_view>> (*split)(std::string_view),
    const std::function<IngestResult(std::string_view)>& decode, IngestResult* parsed) {
  if (parsed->batches.empty()) return Status::OK();
  std::shared_ptr<const TableModels> models;
  if (ctx->models != nullptr) {
    Result<std::shared_ptr<const TableModels>> found = ctx->models->ModelsByTable(tenant);
    if (!found.ok()) {
      return Unavailable("the tenant's thing models cannot be read now ({}); retry",
                         found.status().message());
    }
    if (*found != nullptr && !(*found)->empty()) models = std::move(*found);
  }
  auto check = [&](const std::vector<WriteBatch>& batches) -> Status {
    if (models != nullptr) SW_RETURN_IF_ERROR(ValidateModelTables(*models, batches));
    for (const WriteBatch& batch : batches) SW_RETURN_IF_ERROR(ctx->engine->CheckWrite(batch));
    return Status::OK();
  };
  if (check(parsed->batches).ok()) return Status::OK();
  IngestResult out;
  std::map<std::string, size_t, std::less<>> batch_of;       // table -> its batch in `out`
  std::map<std::string, TableColumns, std::less<>> columns;  // table -> its columns so far
  for (const auto& [number, text] : split(body)) {
    IngestResult one = decode(text);
    Status s =
        one.errors.empty() ? check(one.batches) : InvalidArgument("{}", one.errors.front().message);
    // Every batch of the item against the items before it, then all of them or none.
    std::map<std::string, TableColumns, std::less<>> touched;  // tables the item adds to
    for (size_t i = 0; s.ok() && i < one.batches.size(); ++i) {
      const WriteBatch& batch = one.batches[i];
      static const TableColumns kNone;
      auto seen = touched.find(batch.table());
      auto known = columns.find(batch.table());
      const TableColumns& base = seen != touched.end()    ? seen->second
                                 : known != columns.end() ? known->second
                                                          : kNone;
      Result<std::optional<TableColumns>> next = AddColumns(*ctx->engine, batch, base);
      if (!next.ok()) {
        s = next.status();
      } else if (next->has_value()) {
        touched.insert_or_assign(batch.table(), std::move(**next));
      }
    }
    for (size_t i = 0; s.ok() && i < one.batches.size(); ++i) {
      WriteBatch& batch = one.batches[i];
      auto it = batch_of.find(batch.table());
      if (it == batch_of.end()) {
        batch_of.emplace(batch.table(), out.batches.size());
        out.batches.push_back(std::move(batch));
      } else {
        s = out.batches[it->second].Append(batch);  // checked above: cannot fail
      }
    }
    if (s.ok()) {
      out.points += one.points;
      for (auto& [table, c] : touched) columns.insert_or_assign(table, std::move(c));
    } else {
      // "row 1" of an item decoded alone says nothing: the item's number does.
      std::string message(s.message());
      if (message.starts_with("row 1: ")) message.erase(0, 7);
      out.errors.push_back({number, std::move(message)});
    }
  }
  *parsed = std::move(out);
  return Status::OK();
}

// POST /write and /api/v2/write: line protocol into `database` with the given precision text.
void HandleWrite(const WriteRoutesContext* ctx, const HttpRequest& request, HttpReply reply,
                 const std::optional<std::string>& database, std::string_view precision_text,
                 std::string_view database_param) {
  HttpResponse refusal;
  Result<TenantId> tenant = Authenticate(ctx, request, &refusal);
  if (!tenant.ok()) return reply.Send(std::move(refusal));
  if (!database || database->empty()) {
    return reply.Send(HttpResponse::Error(
        400, "InvalidArgument", fmt::format("missing '{}' query parameter", database_param)));
  }
  if (*database == kSystemDatabase) return reply.Send(SystemDatabaseRefusal(database_param));
  Result<Precision> precision = ParsePrecision(precision_text);
  if (!precision.ok()) return reply.Send(HttpResponse::FromStatus(precision.status()));
  std::string inflated;
  Result<std::string_view> body = DecodedBody(request, ctx->max_body_bytes, &inflated, &refusal);
  if (!body.ok()) return reply.Send(std::move(refusal));

  LineProtocolOptions options;
  options.tenant = *tenant;
  options.database = *database;
  options.precision = *precision;
  options.default_time_ns = ctx->clock->Now().nanos();
  options.limits = ctx->limits;
  auto parsed = std::make_shared<IngestResult>(ParseLineProtocol(*body, options));
  Status checked = SeparateRefusedItems(
      ctx, *tenant, *body, SplitLineProtocol,
      [&options](std::string_view text) { return ParseLineProtocol(text, options); }, parsed.get());
  if (!checked.ok()) return reply.Send(EngineError(checked));
  StoreDecoded(ctx, *tenant, kLineProtocolFormat, std::move(parsed), std::move(reply));
}

// POST /api/v1/telemetry[?db=D]: JSON telemetry (object, array or NDJSON) into database D
// (default "main").
void HandleTelemetry(const WriteRoutesContext* ctx, const HttpRequest& request, HttpReply reply) {
  HttpResponse refusal;
  Result<TenantId> tenant = Authenticate(ctx, request, &refusal);
  if (!tenant.ok()) return reply.Send(std::move(refusal));
  const std::string database = request.QueryParam("db").value_or("main");
  if (database.empty()) {
    return reply.Send(HttpResponse::Error(400, "InvalidArgument", "empty 'db' query parameter"));
  }
  if (database == kSystemDatabase) return reply.Send(SystemDatabaseRefusal("db"));
  std::string inflated;
  Result<std::string_view> body = DecodedBody(request, ctx->max_body_bytes, &inflated, &refusal);
  if (!body.ok()) return reply.Send(std::move(refusal));

  JsonTelemetryOptions options;
  options.tenant = *tenant;
  options.database = database;
  options.default_time_ns = ctx->clock->Now().nanos();
  options.limits = ctx->limits;
  auto parsed = std::make_shared<IngestResult>(DecodeJsonTelemetry(*body, options));
  Status checked = SeparateRefusedItems(
      ctx, *tenant, *body, SplitJsonTelemetry,
      [&options](std::string_view text) { return DecodeJsonTelemetry(text, options); },
      parsed.get());
  if (!checked.ok()) return reply.Send(EngineError(checked));
  StoreDecoded(ctx, *tenant, kJsonFormat, std::move(parsed), std::move(reply));
}

// Counts, writes and answers a decoded body: 204 once every row is durable, 400 naming the
// rejected items (the others stored), or the engine's error.
void StoreDecoded(const WriteRoutesContext* ctx, TenantId tenant, const IngestFormat& format,
                  std::shared_ptr<IngestResult> parsed, HttpReply reply) {
  const MetricLabels labels{{"tenant", std::to_string(tenant.value())}};
  ctx->metrics->GetCounter(format.stored_metric, format.stored_help, labels)
      ->Increment(parsed->points);
  ctx->metrics->GetCounter(format.rejected_metric, format.rejected_help, labels)
      ->Increment(parsed->errors.size());
  if (parsed->batches.empty()) {
    if (parsed->errors.empty()) return reply.Send(HttpResponse::Text(204, ""));
    return reply.Send(PartialWrite(*parsed, format));
  }

  // Reply once every batch is durable; the first engine error wins.
  struct Join {
    std::mutex mu;
    size_t remaining;
    Status first_error;
    std::optional<HttpReply> reply;
  };
  auto join = std::make_shared<Join>();
  join->remaining = parsed->batches.size();
  join->reply.emplace(std::move(reply));
  for (const WriteBatch& batch : parsed->batches) {
    ctx->engine->WriteAsync(batch, [join, parsed, &format](Status s) {
      std::unique_lock lock(join->mu);
      if (!s.ok() && join->first_error.ok()) join->first_error = s;
      if (--join->remaining > 0) return;
      HttpReply out = std::move(*join->reply);
      Status error = join->first_error;
      lock.unlock();
      if (!error.ok()) return out.Send(EngineError(error));
      if (!parsed->errors.empty()) return out.Send(PartialWrite(*parsed, format));
      out.Send(HttpResponse::Text(204, ""));
    });
  }
}

}  // namespace

std::string RequestToken(const HttpRequest& request) {
  if (auto auth = request.Header("Authorization")) {
    for (std::string_view scheme : {"Token ", "Bearer "}) {
      if (auth->size() > scheme.size() &&
          strncasecmp(auth->data(), scheme.data(), scheme.size()) == 0) {
        return std::string(auth->substr(scheme.size()));
      }
    }
    // Basic user:password, as the influx CLI and Telegraf send: the password is the token.
    constexpr std::string_view kBasic = "Basic ";
    if (auth->size() > kBasic.size() &&
        strncasecmp(auth->data(), kBasic.data(), kBasic.size()) == 0) {
      std::optional<std::string> credentials = DecodeBase64(auth->substr(kBasic.size()));
      if (!credentials) return {};
      const size_t colon = credentials->find(':');
      return colon == std::string::npos ? std::string() : credentials->substr(colon + 1);
    }
    return {};
  }
  return request.QueryParam("p").value_or("");
}

Result<std::string> Gunzip(std::string_view body, uint64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Internal("gzip: cannot start inflate");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return InvalidArgument("gzip body is malformed ({})", zs.msg ? zs.msg : "truncated");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > limit) {
      inflateEnd(&zs);
      return ResourceExhausted("request body exceeds the limit of {} bytes after decompression",
                               limit);
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return InvalidArgument("gzip body is truncated");
    }
  }
  inflateEnd(&zs);
  return out;
}

Result<std::string_view> DecodedBody(const HttpRequest& request, uint64_t limit,
                                     std::string* inflated, HttpResponse* refusal) {
  auto encoding = request.Header("Content-Encoding");
  if (!encoding || encoding->empty() ||
      strcasecmp(std::string(*encoding).c_str(), "identity") == 0) {
    return std::string_view(request.body);
  }
  if (strcasecmp(std::string(*encoding).c_str(), "gzip") != 0) {
    Status s = InvalidArgument(
        "Content-Encoding '{}' is not supported: send the body plain or gzip", *encoding);
    *refusal = HttpResponse::Error(415, "UnsupportedMediaType", s.message());
    return s;
  }
  Result<std::string> g = Gunzip(request.body, limit);
  if (!g.ok()) {
    *refusal = HttpResponse::FromStatus(g.status());
    if (g.status().code() == StatusCode::kResourceExhausted) refusal->status = 413;
    return g.status();
  }
  *inflated = std::move(*g);
  return std::string_view(*inflated);
}

void AddWriteRoutes(Router* router, const WriteRoutesContext* ctx) {
  // InfluxDB clients (the influx CLI, Telegraf, client libraries) probe /ping before writing.
  for (HttpMethod method : {HttpMethod::kGet, HttpMethod::kHead}) {
    router->Add(method, "/ping", "ping", std::string(kPublicAccess),
                [](const HttpRequest&, HttpReply reply) {
                  HttpResponse r = HttpResponse::Text(204, "");
                  r.headers.emplace_back("X-Influxdb-Version", fmt::format("seaway-{}", kVersion));
                  r.headers.emplace_back("X-Influxdb-Build", "Seaway");
                  reply.Send(std::move(r));
                });
  }
  router->Add(HttpMethod::kPost, "/write", "write_v1", "data.write",
              [ctx](const HttpRequest& request, HttpReply reply) {
                HandleWrite(ctx, request, std::move(reply), request.QueryParam("db"),
                            request.QueryParam("precision").value_or("ns"), "db");
              });
  router->Add(HttpMethod::kPost, "/api/v2/write", "write_v2", "data.write",
              [ctx](const HttpRequest& request, HttpReply reply) {
                // A v1 "database/retention-policy" bucket (InfluxDB 1.8's v2 compatibility,
                // as Telegraf's influxdb_v2 output sends it) names the database.
                std::optional<std::string> bucket = request.QueryParam("bucket");
                if (bucket) bucket = bucket->substr(0, bucket->find('/'));
                HandleWrite(ctx, request, std::move(reply), bucket,
                            request.QueryParam("precision").value_or("ns"), "bucket");
              });
  router->Add(HttpMethod::kPost, "/api/v1/telemetry", "telemetry", "data.write",
              [ctx](const HttpRequest& request, HttpReply reply) {
                HandleTelemetry(ctx, request, std::move(reply));
              });
}

}  // namespace seaway

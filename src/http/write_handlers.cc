// InfluxDB-compatible write routes (src/http).
#include "http/write_handlers.h"

#include <strings.h>
#include <zlib.h>

#include <atomic>
#include <mutex>

#include "common/version.h"
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

// The JSON body of a partial write: which lines were rejected, and why.
HttpResponse PartialWrite(const IngestResult& parsed) {
  std::string rejected;
  for (size_t i = 0; i < parsed.errors.size() && i < kMaxReportedLines; ++i) {
    if (!rejected.empty()) rejected.push_back(',');
    rejected += fmt::format(R"({{"line":{},"error":"{}"}})", parsed.errors[i].line,
                            JsonEscape(parsed.errors[i].message));
  }
  const size_t more =
      parsed.errors.size() > kMaxReportedLines ? parsed.errors.size() - kMaxReportedLines : 0;
  return HttpResponse::Json(
      400, fmt::format(
               R"({{"error":"partial write: {} line(s) rejected, {} stored; first: line {}: {}",)"
               R"("code":"InvalidArgument","rejected":[{}],"rejected_more":{}}})",
               parsed.errors.size(), parsed.points, parsed.errors[0].line,
               JsonEscape(parsed.errors[0].message), rejected, more));
}

HttpResponse EngineError(const Status& s) {
  HttpResponse r = HttpResponse::FromStatus(s);
  if (s.code() == StatusCode::kUnavailable) {
    r.status = 503;
    r.headers.emplace_back("Retry-After", "1");
  } else if (s.code() == StatusCode::kFailedPrecondition) {
    r.status = 503;  // a read-only shard: the server cannot take writes now
  } else if (s.code() == StatusCode::kResourceExhausted) {
    r.status = 507;  // disk full
  }
  return r;
}

// Handles one write request for `database` with the given precision text.
void HandleWrite(const WriteRoutesContext* ctx, const HttpRequest& request, HttpReply reply,
                 const std::optional<std::string>& database, std::string_view precision_text,
                 std::string_view database_param) {
  const std::string token = RequestToken(request);
  if (token.empty()) {
    return reply.Send(Unauthorized(
        "missing token: send 'Authorization: Token <token>' (or the 'p' query parameter)"));
  }
  Result<TenantId> tenant = ctx->metadata->Authenticate(token);
  if (!tenant.ok()) return reply.Send(Unauthorized("invalid token"));
  if (!database || database->empty()) {
    return reply.Send(HttpResponse::Error(
        400, "InvalidArgument", fmt::format("missing '{}' query parameter", database_param)));
  }
  Result<Precision> precision = ParsePrecision(precision_text);
  if (!precision.ok()) return reply.Send(HttpResponse::FromStatus(precision.status()));

  std::string inflated;
  std::string_view body = request.body;
  if (auto encoding = request.Header("Content-Encoding");
      encoding && strncasecmp(encoding->data(), "gzip", 4) == 0) {
    Result<std::string> g = Gunzip(request.body, ctx->max_body_bytes);
    if (!g.ok()) {
      HttpResponse r = HttpResponse::FromStatus(g.status());
      if (g.status().code() == StatusCode::kResourceExhausted) r.status = 413;
      return reply.Send(std::move(r));
    }
    inflated = std::move(*g);
    body = inflated;
  }

  LineProtocolOptions options;
  options.tenant = *tenant;
  options.database = *database;
  options.precision = *precision;
  options.default_time_ns = ctx->clock->Now().nanos();
  options.limits = ctx->limits;
  auto parsed = std::make_shared<IngestResult>(ParseLineProtocol(body, options));
  const MetricLabels labels{{"tenant", std::to_string(tenant->value())}};
  ctx->metrics->GetCounter("seaway_ingest_lines_total", "Line-protocol lines stored", labels)
      ->Increment(parsed->points);
  ctx->metrics
      ->GetCounter("seaway_ingest_rejected_lines_total", "Line-protocol lines rejected", labels)
      ->Increment(parsed->errors.size());
  if (parsed->batches.empty()) {
    if (parsed->errors.empty()) return reply.Send(HttpResponse::Text(204, ""));
    return reply.Send(PartialWrite(*parsed));
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
    ctx->engine->WriteAsync(batch, [join, parsed](Status s) {
      std::unique_lock lock(join->mu);
      if (!s.ok() && join->first_error.ok()) join->first_error = s;
      if (--join->remaining > 0) return;
      HttpReply out = std::move(*join->reply);
      Status error = join->first_error;
      lock.unlock();
      if (!error.ok()) return out.Send(EngineError(error));
      if (!parsed->errors.empty()) return out.Send(PartialWrite(*parsed));
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

void AddWriteRoutes(Router* router, const WriteRoutesContext* ctx) {
  // InfluxDB clients (the influx CLI, Telegraf, client libraries) probe /ping before writing.
  for (HttpMethod method : {HttpMethod::kGet, HttpMethod::kHead}) {
    router->Add(method, "/ping", "ping", [](const HttpRequest&, HttpReply reply) {
      HttpResponse r = HttpResponse::Text(204, "");
      r.headers.emplace_back("X-Influxdb-Version", fmt::format("seaway-{}", kVersion));
      r.headers.emplace_back("X-Influxdb-Build", "Seaway");
      reply.Send(std::move(r));
    });
  }
  router->Add(HttpMethod::kPost, "/write", "write_v1",
              [ctx](const HttpRequest& request, HttpReply reply) {
                HandleWrite(ctx, request, std::move(reply), request.QueryParam("db"),
                            request.QueryParam("precision").value_or("ns"), "db");
              });
  router->Add(HttpMethod::kPost, "/api/v2/write", "write_v2",
              [ctx](const HttpRequest& request, HttpReply reply) {
                HandleWrite(ctx, request, std::move(reply), request.QueryParam("bucket"),
                            request.QueryParam("precision").value_or("ns"), "bucket");
              });
}

}  // namespace seaway

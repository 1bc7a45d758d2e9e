#!/usr/bin/env bash
# End-to-end test of `seaway serve` (tests/e2e): the real binary on loopback, driven by curl.
# Checks startup logging, /health, /metrics, JSON errors, the data-directory lock, HTTPS with the
# test certificate (tests/data/tls), --help, configuration errors, and clean shutdown on SIGTERM
# and SIGINT within 2 seconds.
# Usage: serve_test.sh path/to/seaway
set -euo pipefail

SEAWAY=${1:?usage: serve_test.sh path/to/seaway}
TLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/tls" && pwd)"
WORK=$(mktemp -d /tmp/seaway_e2e_XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done; exit 1; }
pass() { echo "ok: $*"; }

# Starts a server; sets PID and PORT. Arguments are passed to `seaway serve`.
start_server() {
  local log=$1; shift
  local mqtt=(--mqtt 127.0.0.1:0)  # a free port unless the caller picks one
  [[ " $* " == *" --mqtt "* ]] && mqtt=()
  "$SEAWAY" serve "${mqtt[@]}" "$@" 2>"$log" &
  PID=$!
  PIDS+=("$PID")
  PORT=""
  for _ in $(seq 1 200); do
    PORT=$(grep -o 'listening.*listener.*http.*address[=":]*127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null \
           | grep -o '[0-9]*$' | head -1 || true)
    [[ -n "$PORT" ]] && return 0
    kill -0 "$PID" 2>/dev/null || fail "server exited during startup"
    sleep 0.05
  done
  fail "server did not log its http listener within 10 s"
}

# Sends a signal and checks the server exits 0 within 2 seconds.
stop_server() {
  local signal=$1 start end
  start=$(date +%s%N)
  kill "-$signal" "$PID"
  for _ in $(seq 1 40); do
    if ! kill -0 "$PID" 2>/dev/null; then
      wait "$PID" || fail "server exited with status $? after SIG$signal"
      end=$(date +%s%N)
      echo "   shutdown took $(( (end - start) / 1000000 )) ms"
      return 0
    fi
    sleep 0.05
  done
  fail "server still running 2 s after SIG$signal"
}

# --- startup, one log line per listener ------------------------------------------------------
start_server "$WORK/a.log" --data-dir "$WORK/data" --http 127.0.0.1:0 --mqtt 127.0.0.1:0
grep -q "listening listener=http address=127.0.0.1:$PORT" "$WORK/a.log" || fail "no http listener line"
grep -Eq "listening listener=mqtt address=127.0.0.1:[1-9][0-9]*" "$WORK/a.log" \
  || fail "no mqtt listener line with the bound port"
[[ -d "$WORK/data" ]] || fail "data directory not created"
[[ -d "$WORK/data/storage/shard-000" ]] || fail "storage shard directory not created"
pass "server started on port $PORT"

# --- /health ----------------------------------------------------------------------------------
body=$(curl -sS --fail "http://127.0.0.1:$PORT/health")
[[ "$body" =~ \"status\":\"ok\" ]] || fail "/health body: $body"
[[ "$body" =~ \"version\":\"[0-9]+\.[0-9]+\.[0-9]+\" ]] || fail "/health has no version: $body"
[[ "$body" =~ \"uptime_seconds\":[0-9.]+ ]] || fail "/health has no uptime: $body"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/health")
[[ "$ctype" == "application/json" ]] || fail "/health content type: $ctype"
pass "/health: $body"

# --- /metrics: the system token's (every tenant's volumes), Prometheus sends it as a bearer ----
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
[[ "$code" == 401 ]] || fail "/metrics without a token gave $code"
metrics=$(curl -sS --fail -H "Authorization: Bearer $(cat "$WORK/data/admin-token")" \
  "http://127.0.0.1:$PORT/metrics")
grep -q '^seaway_build_info{version="[0-9.]*"} 1$' <<<"$metrics" || fail "no build info metric"
grep -q '^# TYPE seaway_http_requests_total counter$' <<<"$metrics" || fail "no request counter"
grep -q '^seaway_http_requests_total{route="health",code="200"} 2$' <<<"$metrics" \
  || fail "health requests not counted: $(grep requests_total <<<"$metrics")"
grep -q '^process_resident_memory_bytes [0-9]' <<<"$metrics" || fail "no resident memory metric"
grep -q '^seaway_wal_syncs_total{shard="0"} ' <<<"$metrics" || fail "no WAL metrics"
grep -q '^seaway_storage_series 0$' <<<"$metrics" || fail "no storage series gauge"
pass "/metrics in Prometheus text format"

# --- errors are JSON with the right status ----------------------------------------------------
code=$(curl -sS -o "$WORK/404.json" -w '%{http_code}' "http://127.0.0.1:$PORT/no/such/route")
[[ "$code" == 404 ]] || fail "unknown route gave $code"
grep -q '"error":"no route for' "$WORK/404.json" || fail "404 body: $(cat "$WORK/404.json")"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/health")
[[ "$code" == 405 ]] || fail "wrong method gave $code"
pass "unknown route 404 and wrong method 405 with JSON bodies"

# --- InfluxDB-compatible writes with the admin token ------------------------------------------
TOKEN_FILE="$WORK/data/admin-token"
[[ -f "$TOKEN_FILE" ]] || fail "no admin-token file"
[[ "$(stat -c %a "$TOKEN_FILE")" == 600 ]] || fail "admin-token mode is $(stat -c %a "$TOKEN_FILE")"
TOKEN=$(cat "$TOKEN_FILE")
grep -q "created tenant 'default' with an admin token" "$WORK/a.log" || fail "token not announced"
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$PORT/write?db=plant" \
  -H "Authorization: Token $TOKEN" --data-binary $'cpu,host=a usage=1.5 1\ncpu,host=b usage=2 2\n')
[[ "$code" == 204 ]] || fail "line-protocol write gave $code"
code=$(curl -sS -o "$WORK/401.json" -w '%{http_code}' -XPOST "http://127.0.0.1:$PORT/write?db=plant" \
  --data-binary 'cpu v=1 1')
[[ "$code" == 401 ]] || fail "write without a token gave $code"
printf 'cpu,host=c usage=3 3\n' | gzip | curl -sS -o /dev/null -w '%{http_code}' -XPOST \
  "http://127.0.0.1:$PORT/api/v2/write?bucket=plant" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Encoding: gzip' --data-binary @- > "$WORK/gzip.code"
[[ "$(cat "$WORK/gzip.code")" == 204 ]] || fail "gzip v2 write gave $(cat "$WORK/gzip.code")"
code=$(curl -sS -o "$WORK/partial.json" -w '%{http_code}' -XPOST \
  "http://127.0.0.1:$PORT/write?db=plant&p=$TOKEN" --data-binary $'cpu v=1 4\ncpu v=x 5\n')
[[ "$code" == 400 ]] || fail "partial write gave $code"
grep -q '"line":2' "$WORK/partial.json" || fail "partial write body: $(cat "$WORK/partial.json")"
lines=$(curl -sS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" | awk '/^seaway_ingest_lines_total/ {print $2}')
[[ "$lines" == 4 ]] || fail "ingest counter says $lines lines, expected 4"
pass "InfluxDB-compatible writes: 204, 401 without token, gzip, partial 400 naming the line"

# --- JSON telemetry ---------------------------------------------------------------------------
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$PORT/api/v1/telemetry?db=plant" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary '[{"table":"boiler","tags":{"site":"north"},"fields":{"temp":81.5,"on":true},"time":"2026-11-25T18:45:42Z"},{"table":"boiler","tags":{"site":"south"},"fields":{"temp":79}}]')
[[ "$code" == 204 ]] || fail "JSON telemetry array gave $code"
code=$(curl -sS -o "$WORK/json_partial.json" -w '%{http_code}' -XPOST \
  "http://127.0.0.1:$PORT/api/v1/telemetry?db=plant" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/x-ndjson' \
  --data-binary $'{"table":"boiler","fields":{"temp":80},"time":1}\n{"table":"boiler","fields":{"temp":"hot"},"time":2}\n')
[[ "$code" == 400 ]] || fail "NDJSON with a bad item gave $code"
grep -q '"item":2' "$WORK/json_partial.json" || fail "NDJSON partial body: $(cat "$WORK/json_partial.json")"
items=$(curl -sS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" | awk '/^seaway_ingest_json_items_total/ {print $2}')
[[ "$items" == 3 ]] || fail "JSON counter says $items items, expected 3"
pass "JSON telemetry: array 204, NDJSON partial 400 naming the item"

# --- keep-alive: several requests over one connection -----------------------------------------
out=$(curl -sS -v "http://127.0.0.1:$PORT/health" "http://127.0.0.1:$PORT/health" 2>&1)
grep -q "Re-using existing connection" <<<"$out" || fail "curl did not reuse the connection"
pass "keep-alive connection reused"

# --- a second server on the same data directory is refused ------------------------------------
if "$SEAWAY" serve --data-dir "$WORK/data" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 \
  2>"$WORK/second.log"; then
  fail "second server on a locked data directory started"
fi
grep -q "is locked by another process" "$WORK/second.log" || fail "no clear lock message"
pass "data directory lock refuses a second server"

stop_server TERM
grep -q "stopped" "$WORK/a.log" || fail "no 'stopped' log line"
pass "SIGTERM shutdown"

# --- demo feed: data flowing on `make run` -----------------------------------------------------
start_server "$WORK/demo.log" --data-dir "$WORK/data3" --http 127.0.0.1:0 --demo
# The demo machines connect over MQTT once the listeners are up: wait for their line.
for _ in $(seq 1 200); do
  grep -q "demo feed started machines=20 table=demo.machine" "$WORK/demo.log" && break
  sleep 0.05
done
grep -q "demo feed started machines=20 table=demo.machine" "$WORK/demo.log" || fail "no demo feed line"
sleep 1.5
demo_rows=$(curl -sS -H "Authorization: Bearer $(cat "$WORK/data3/admin-token")" \
  "http://127.0.0.1:$PORT/metrics" | awk '/^seaway_demo_rows_total / {print $2}')
[[ "${demo_rows:-0}" -ge 20 ]] || fail "demo feed wrote ${demo_rows:-0} rows in 1.5 s"
stop_server TERM
pass "demo feed writes simulated machines ($demo_rows rows in 1.5 s)"

# --- HTTPS: --http-tls-cert / --http-tls-key ---------------------------------------------------
start_server "$WORK/tls.log" --data-dir "$WORK/data4" --http 127.0.0.1:0 \
  --http-tls-cert "$TLS_DIR/cert.pem" --http-tls-key "$TLS_DIR/key.pem"
grep -q "listening listener=https address=127.0.0.1:$PORT" "$WORK/tls.log" || fail "no https listener line"
CA=(--cacert "$TLS_DIR/cert.pem")
code=$(curl -sS "${CA[@]}" -o "$WORK/tls_health.json" -w '%{http_code}' "https://127.0.0.1:$PORT/health")
[[ "$code" == 200 ]] || fail "https /health gave $code"
grep -q '"status":"ok"' "$WORK/tls_health.json" || fail "https /health body: $(cat "$WORK/tls_health.json")"
TLS_TOKEN=$(cat "$WORK/data4/admin-token")
code=$(curl -sS "${CA[@]}" -o /dev/null -w '%{http_code}' -XPOST "https://127.0.0.1:$PORT/write?db=plant" \
  -H "Authorization: Token $TLS_TOKEN" --data-binary $'cpu,host=a usage=1.5 1\ncpu,host=b usage=2 2\n')
[[ "$code" == 204 ]] || fail "line-protocol write over https gave $code"
out=$(curl -sS -v "${CA[@]}" "https://127.0.0.1:$PORT/health" "https://127.0.0.1:$PORT/health" 2>&1)
grep -q "Re-using existing connection" <<<"$out" || fail "curl did not reuse the https connection"
if curl -sS -m 5 -o /dev/null "http://127.0.0.1:$PORT/health" 2>"$WORK/plain.err"; then
  fail "plaintext HTTP was answered on the https port"
fi
if curl -sS -m 5 -o /dev/null "https://127.0.0.1:$PORT/health" 2>"$WORK/untrusted.err"; then
  fail "curl trusted the test certificate without --cacert"
fi
failures=$(curl -sS "${CA[@]}" -H "Authorization: Bearer $TLS_TOKEN" "https://127.0.0.1:$PORT/metrics" \
  | awk '/^seaway_http_tls_handshake_failures_total / {print $2}')
[[ "$failures" == 2 ]] || fail "handshake failures counted: ${failures:-none}, expected 2"
stop_server TERM
pass "https: /health 200, write 204, keep-alive, plaintext refused, failed handshakes counted"

if "$SEAWAY" serve --data-dir "$WORK/data5" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 --http-tls-cert "$TLS_DIR/cert.pem" \
     --http-tls-key "$TLS_DIR/other_key.pem" 2>"$WORK/badtls.log"; then
  fail "a key that does not match the certificate was accepted"
fi
grep -q "TLS key file '$TLS_DIR/other_key.pem' does not match the certificate" "$WORK/badtls.log" \
  || fail "mismatched key message: $(cat "$WORK/badtls.log")"
if "$SEAWAY" serve --data-dir "$WORK/data5" --http-tls-cert "$TLS_DIR/cert.pem" 2>"$WORK/halftls.log"; then
  fail "--http-tls-cert without --http-tls-key was accepted"
fi
grep -q -- "--http-tls-key is required with --http-tls-cert" "$WORK/halftls.log" \
  || fail "half TLS config message: $(cat "$WORK/halftls.log")"
pass "https configuration errors name the file or the missing flag"

# --- configuration: file, environment, errors -------------------------------------------------
cat > "$WORK/seaway.conf" <<CONF
# e2e config
data-dir = "$WORK/data2"
log-format = json
http = 127.0.0.1:1
CONF
SEAWAY_HTTP=127.0.0.1:0 start_server "$WORK/b.log" --config "$WORK/seaway.conf"
grep -q '"msg":"listening","listener":"http"' "$WORK/b.log" || fail "config file log-format ignored"
[[ -d "$WORK/data2" ]] || fail "config file data-dir ignored"
curl -sS --fail "http://127.0.0.1:$PORT/health" >/dev/null || fail "/health with config file"
stop_server INT
pass "config file + environment (env beat the file's http), SIGINT shutdown"

if "$SEAWAY" serve --http nonsense 2>"$WORK/bad.log"; then fail "bad --http accepted"; fi
grep -q -- "--http: address 'nonsense': expected HOST:PORT" "$WORK/bad.log" || fail "bad --http message: $(cat "$WORK/bad.log")"
printf 'bogus = 1\n' > "$WORK/bad.conf"
if "$SEAWAY" serve --config "$WORK/bad.conf" 2>"$WORK/badconf.log"; then fail "bad config accepted"; fi
grep -q "line 1: unknown key 'bogus'" "$WORK/badconf.log" || fail "bad config message: $(cat "$WORK/badconf.log")"
pass "configuration errors name the flag, file and line"

help=$("$SEAWAY" serve --help)
for var in SEAWAY_CONFIG SEAWAY_DATA_DIR SEAWAY_HTTP SEAWAY_MQTT SEAWAY_HTTP_THREADS \
           SEAWAY_HTTP_MAX_BODY_BYTES SEAWAY_LOG_LEVEL SEAWAY_LOG_FORMAT SEAWAY_WAL_SYNC \
           SEAWAY_WAL_RECOVERY SEAWAY_STORAGE_SHARDS SEAWAY_STORAGE_MEMORY_BYTES SEAWAY_DEMO \
           SEAWAY_HTTP_TLS_CERT SEAWAY_HTTP_TLS_KEY; do
  grep -q "$var" <<<"$help" || fail "--help does not document $var"
done
pass "serve --help documents every setting"

echo "e2e serve: all checks passed"

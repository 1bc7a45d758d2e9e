#!/usr/bin/env bash
# The real InfluxDB 1.x command-line client (`influx`, Debian influxdb-client) writing to
# `seaway serve` (tests/e2e): it probes /ping, authenticates with Basic user:token, writes with
# INSERT and imports a file in batches, and shows Seaway's error for a rejected line.
# Usage: influx_cli_test.sh path/to/seaway path/to/influx
set -euo pipefail

SEAWAY=${1:?usage: influx_cli_test.sh path/to/seaway path/to/influx}
INFLUX=${2:?usage: influx_cli_test.sh path/to/seaway path/to/influx}
TOKEN=influx-cli-test-token-0123
WORK=$(mktemp -d /tmp/seaway_influx_XXXXXX)
SERVER=""
cleanup() {
  [[ -n $SERVER ]] && kill -9 "$SERVER" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$WORK/server.log" >&2; exit 1; }

SEAWAY_ADMIN_TOKEN=$TOKEN "$SEAWAY" serve --data-dir "$WORK/data" --http 127.0.0.1:0 \
  --mqtt 127.0.0.1:0 2>"$WORK/server.log" &
SERVER=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(grep -o 'listener=http address=127\.0\.0\.1:[0-9]*' "$WORK/server.log" | grep -o '[0-9]*$' || true)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER" 2>/dev/null || fail "server exited during startup"
  sleep 0.05
done
[[ -n $PORT ]] || fail "server did not start"

influx() { "$INFLUX" -host 127.0.0.1 -port "$PORT" -username cli -password "$TOKEN" "$@"; }
stored() {
  curl -sS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" |
    awk '/^seaway_ingest_lines_total/ {n += $NF} END {printf "%d", n}'
}

# INSERT through the CLI (it pings first and sends Basic auth).
out=$(influx -database plant -execute 'INSERT machine,site=s1,machine_id=m1 temperature=51.5,parts=12i' 2>&1) ||
  fail "influx INSERT exited $?: $out"
[[ -z $out ]] || fail "influx INSERT printed: $out"
[[ $(stored) == 1 ]] || fail "after INSERT, $(stored) lines stored"
echo "ok: influx -execute INSERT"

# -import: a file of 2,500 lines, posted by the CLI in batches.
{
  echo '# DML'
  echo '# CONTEXT-DATABASE: plant'
  for i in $(seq 1 2500); do
    echo "machine,site=s$((i % 7)),machine_id=m$((i % 50)) temperature=$((i % 90)).25,parts=${i}i $((1700000000 + i))"
  done
} >"$WORK/import.txt"
out=$(influx -import -path "$WORK/import.txt" -precision s 2>&1) || fail "influx -import exited $?: $out"
grep -q "Processed 2500 inserts" <<<"$out" && grep -q "Failed 0 inserts" <<<"$out" || fail "influx -import said: $out"
[[ $(stored) == 2501 ]] || fail "after import, $(stored) lines stored"
echo "ok: influx -import of 2500 lines"

# A wrong token and a rejected line: the CLI shows Seaway's JSON error.
out=$("$INFLUX" -host 127.0.0.1 -port "$PORT" -username cli -password wrong-token-000000 \
  -database plant -execute 'INSERT machine v=1' 2>&1 || true)
grep -q 'invalid token' <<<"$out" || fail "wrong token: $out"
out=$(influx -database plant -execute 'INSERT machine temperature="hot"' 2>&1 || true)
grep -q "field 'temperature': type string" <<<"$out" || grep -q "conflicts" <<<"$out" ||
  fail "type conflict: $out"
echo "ok: errors reach the CLI user"

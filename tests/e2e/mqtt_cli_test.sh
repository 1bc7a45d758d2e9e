#!/usr/bin/env bash
# End-to-end test of the MQTT front end with real command-line clients (tests/e2e): TLS with and
# without client certificates (mosquitto_pub/mosquitto_sub), telemetry published by mosquitto_pub
# read back through SQL, a bad payload refused with 0x99, the `seaway simulate` load generator,
# and retained messages and persistent sessions surviving a restart.
# Usage: mqtt_cli_test.sh path/to/seaway
set -euo pipefail

SEAWAY=${1:?usage: mqtt_cli_test.sh path/to/seaway}
TLS_DIR=$(cd "$(dirname "$0")/../data/tls" && pwd)
WORK=$(mktemp -d /tmp/seaway_mqtt_e2e_XXXXXX)
PID=""
TOKEN=mqtt-e2e-token-0123456789abcdef
cleanup() {
  [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$WORK/server.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Starts the server on free ports; sets PID, HTTP, MQTT and MQTTS.
start() {
  SEAWAY_ADMIN_TOKEN=$TOKEN "$SEAWAY" serve --data-dir "$WORK/data" --http 127.0.0.1:0 \
    --mqtt 127.0.0.1:0 --mqtt-tls 127.0.0.1:0 --mqtt-tls-cert "$TLS_DIR/cert.pem" \
    --mqtt-tls-key "$TLS_DIR/key.pem" --mqtt-tls-client-ca "$TLS_DIR/chain_root.pem" \
    "$@" 2>>"$WORK/server.log" &
  PID=$!
  HTTP="" MQTT="" MQTTS=""
  for _ in $(seq 1 200); do
    port_of() { grep -o "listener=$1 address=127\.0\.0\.1:[0-9]*" "$WORK/server.log" | tail -1 \
                | grep -o '[0-9]*$' || true; }
    HTTP=$(port_of http) MQTT=$(port_of mqtt) MQTTS=$(port_of mqtts)
    [[ -n "$HTTP" && -n "$MQTT" && -n "$MQTTS" ]] && return 0
    kill -0 "$PID" 2>/dev/null || fail "server exited during startup"
    sleep 0.05
  done
  fail "server did not start"
}
stop() {
  kill -TERM "$PID"
  wait "$PID" || fail "server exited non-zero"
  PID=""
  : >"$WORK/server.log.tmp"  # the next start appends its own listener lines
  mv "$WORK/server.log" "$WORK/server.log.1"
}
sql() {
  curl -sS --fail -XPOST "http://127.0.0.1:$HTTP/api/v1/sql?format=csv" \
    -H "Authorization: Token $TOKEN" -d "{\"query\":\"$1\"}"
}
pub() { mosquitto_pub -h 127.0.0.1 -p "$MQTT" -u dev -P "$TOKEN" "$@"; }

start

# --- TLS: the server certificate verifies; a client certificate is required --------------------
mosquitto_sub -h localhost -p "$MQTTS" --cafile "$TLS_DIR/cert.pem" --cert "$TLS_DIR/chain.pem" \
  --key "$TLS_DIR/chain_key.pem" -u dev -P "$TOKEN" -t 'tls/#' -C 1 -W 10 -v >"$WORK/tls.out" &
SUB=$!
sleep 0.5
mosquitto_pub -h localhost -p "$MQTTS" --cafile "$TLS_DIR/cert.pem" --cert "$TLS_DIR/chain.pem" \
  --key "$TLS_DIR/chain_key.pem" -u dev -P "$TOKEN" -t tls/a -m over-tls -q 1 \
  || fail "TLS publish with a client certificate failed"
wait "$SUB" || fail "TLS subscriber got nothing"
[[ $(cat "$WORK/tls.out") == "tls/a over-tls" ]] || fail "TLS delivery: $(cat "$WORK/tls.out")"
if mosquitto_pub -h localhost -p "$MQTTS" --cafile "$TLS_DIR/cert.pem" -u dev -P "$TOKEN" \
     -t tls/a -m no-cert -q 1 2>/dev/null; then
  fail "a TLS client without a certificate was accepted"
fi
pass "mqtt over TLS: delivery with a client certificate, refused without one"

# --- telemetry: JSON to devices/<id>/telemetry and line protocol to write/<db> -----------------
pub -t devices/press-7/telemetry -q 1 -m '{"temperature": 81.5, "status": "run", "time": 1767225600000000000}' \
  || fail "telemetry publish"
pub -t write/plant -q 1 -m $'line,site=north speed=1500i 1767225600000000000\nline,site=south speed=0i 1767225600000000000' \
  || fail "line protocol publish"
[[ $(sql "SELECT device, temperature, status FROM main.telemetry") == $'device,temperature,status\npress-7,81.5,run' ]] \
  || fail "telemetry row: $(sql "SELECT * FROM main.telemetry")"
[[ $(sql "SELECT site, speed FROM plant.line ORDER BY site") == $'site,speed\nnorth,1500\nsouth,0' ]] \
  || fail "line protocol rows: $(sql "SELECT * FROM plant.line")"
# mosquitto_pub reports a refused publish as a warning (its exit status stays 0).
out=$(pub -V mqttv5 -t devices/press-7/telemetry -q 1 -m '{"temperature": ' 2>&1 || true)
grep -qi "payload format invalid" <<<"$out" || fail "bad payload reply: $out"
pass "telemetry over MQTT stored and read back with SQL; bad payload refused with 0x99"

# --- the simulator as a load generator -------------------------------------------------------
"$SEAWAY" simulate --mqtt "127.0.0.1:$MQTT" --token "$TOKEN" --devices 50 --rate 20 --duration 2 \
  --format line --database sim >"$WORK/sim.out" || fail "simulate: $(cat "$WORK/sim.out")"
acked=$(tail -1 "$WORK/sim.out" | grep -o 'acked=[0-9]*' | cut -d= -f2)
[[ "${acked:-0}" -ge 1000 ]] || fail "simulate acked ${acked:-0}: $(cat "$WORK/sim.out")"
stored=$(sql "SELECT count(*) FROM sim.machine" | tail -1)
[[ "$stored" -ge "$acked" ]] || fail "simulate: $acked acknowledged but $stored stored"
machines=$(sql "SELECT count(DISTINCT machine_id) FROM sim.machine" | tail -1)
[[ "$machines" == 50 ]] || fail "simulate machines: $machines"
pass "seaway simulate: $acked readings acknowledged, $stored stored from 50 machines"

# --- restart: retained messages and a persistent session's queue survive ----------------------
pub -t state/door -r -q 1 -m open
mosquitto_sub -h 127.0.0.1 -p "$MQTT" -u dev -P "$TOKEN" -i keeper -c -q 1 -t 'cmd/#' -C 1 -W 1 \
  >/dev/null 2>&1 || true  # creates the persistent session, then leaves
pub -t cmd/valve -q 1 -m close  # queued for the offline session
stop
start
[[ $(mosquitto_sub -h 127.0.0.1 -p "$MQTT" -u dev -P "$TOKEN" -t state/door -C 1 -W 5) == open ]] \
  || fail "retained message lost across the restart"
[[ $(mosquitto_sub -h 127.0.0.1 -p "$MQTT" -u dev -P "$TOKEN" -i keeper -c -q 1 -t 'cmd/#' -C 1 -W 5) == close ]] \
  || fail "queued message of the persistent session lost across the restart"
pass "retained message and persistent session's queued message survive a restart"
stop

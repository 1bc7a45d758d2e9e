#!/usr/bin/env bash
# End-to-end test of thing models (tests/e2e, docs/models.md): import and export with curl, a
# device assigned to a model, its MQTT telemetry checked against it with mosquitto_pub (a good
# message stored in the model's table, a bad one refused with 0x99 and not stored), another
# device left schemaless, a new version of the model taking effect at once, against the real
# `seaway serve`.
# Usage: models_test.sh path/to/seaway
set -euo pipefail

SEAWAY=${1:?usage: models_test.sh path/to/seaway}
WORK=$(mktemp -d /tmp/seaway_models_e2e_XXXXXX)
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$WORK/server.log" >&2; exit 1; }
pass() { echo "ok: $*"; }
field() { /usr/bin/python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(json.dumps(v) if isinstance(v,(list,dict)) else v)' "$1" "$2"; }
call() {  # call TOKEN METHOD PATH [BODY]: prints "<status> <body>"
  local token=$1 method=$2 path=$3 body=${4:-}
  local args=(-sS -o "$WORK/out" -w '%{http_code}' -X "$method" "$URL$path")
  [[ -n $token ]] && args+=(-H "Authorization: Token $token")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local code
  code=$(curl "${args[@]}")
  echo "$code $(cat "$WORK/out")"
}
expect() {  # expect WHAT "<status> <body>" STATUS [TEXT]
  local what=$1 got=$2 status=$3 text=${4:-}
  [[ ${got%% *} == "$status" ]] || fail "$what: expected $status, got $got"
  [[ -z $text || $got == *"$text"* ]] || fail "$what: expected '$text' in $got"
}

"$SEAWAY" serve --data-dir "$WORK/data" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 2>"$WORK/server.log" &
PID=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(grep -o 'listener=http address=127\.0\.0\.1:[0-9]*' "$WORK/server.log" 2>/dev/null \
         | grep -o '[0-9]*$' | head -1 || true)
  [[ -n "$PORT" ]] && break
  kill -0 "$PID" 2>/dev/null || fail "server exited during startup"
  sleep 0.05
done
[[ -n "$PORT" ]] || fail "server did not start"
URL="http://127.0.0.1:$PORT"
ADMIN=$(cat "$WORK/data/admin-token")
MQTT=$(grep -o 'listener=mqtt address=127\.0\.0\.1:[0-9]*' "$WORK/server.log" | head -1 | grep -o '[0-9]*$')

# --- import, export, errors ------------------------------------------------------------------------
cat > "$WORK/mill.json" <<'EOF'
{"name": "cnc-mill", "version": "1",
 "properties": [
   {"name": "temperature", "type": "float", "unit": "°C", "min": -20, "max": 150, "access": "read-only"},
   {"name": "rpm", "type": "integer", "min": 0, "max": 24000, "access": "read-write"},
   {"name": "status", "type": "string", "access": "read-only"}],
 "events": [{"name": "overheat", "level": "alert", "fields": [{"name": "temperature", "type": "float"}]}],
 "commands": [{"name": "set_speed", "input": [{"name": "rpm", "type": "integer"}], "output": []}]}
EOF
r=$(call "$ADMIN" POST /api/v1/models "$(cat "$WORK/mill.json")")
expect "import" "$r" 201 '"table":"cnc_mill"'
MODEL=$(field "${r#* }" id)
expect "import twice" "$(call "$ADMIN" POST /api/v1/models "$(cat "$WORK/mill.json")")" 409
expect "bad document" "$(call "$ADMIN" POST /api/v1/models \
  '{"name":"x","properties":[{"name":"a","type":"float","min":"low","access":"read-only"}]}')" \
  400 "properties[0].min: must be a number"
r=$(call "$ADMIN" GET "/api/v1/models/$MODEL"); expect "export" "$r" 200
# The export, imported under another name, exports the same again.
exported=${r#* }
renamed=$(jq -c '.name = "cnc-mill-copy" | .table = "cnc_mill"' <<<"$exported")
r=$(call "$ADMIN" POST /api/v1/models "$renamed"); expect "re-import" "$r" 201
COPY=$(field "${r#* }" id)
r=$(call "$ADMIN" GET "/api/v1/models/$COPY")
[[ "$(jq -S 'del(.name)' <<<"${r#* }")" == "$(jq -S 'del(.name)' <<<"$exported")" ]] ||
  fail "export does not round-trip: $exported vs ${r#* }"
r=$(call "$ADMIN" GET /api/v1/models); expect "list" "$r" 200 '"total":2'
expect "delete the copy" "$(call "$ADMIN" DELETE "/api/v1/models/$COPY")" 204
expect "deleted" "$(call "$ADMIN" GET "/api/v1/models/$COPY")" 404
pass "models: import, export round-trip, list, delete, errors naming the JSON path"

# --- a device following the model: its telemetry checked on the MQTT path -------------------------
r=$(call "$ADMIN" POST /api/v1/devices '{"name":"mill-1"}'); expect "device" "$r" 201
MILL=$(field "${r#* }" id); MILL_TOKEN=$(field "${r#* }" token)
r=$(call "$ADMIN" POST /api/v1/devices '{"name":"press-7"}'); expect "device 2" "$r" 201
PRESS_TOKEN=$(field "${r#* }" token)
expect "assign" "$(call "$ADMIN" PUT "/api/v1/devices/$MILL/model" "{\"model\":$MODEL}")" 200
expect "assigned" "$(call "$ADMIN" GET "/api/v1/devices/$MILL/model")" 200 "\"model\":$MODEL"
expect "assign unknown model" "$(call "$ADMIN" PUT "/api/v1/devices/$MILL/model" '{"model":999}')" 404
expect "delete while used" "$(call "$ADMIN" DELETE "/api/v1/models/$MODEL")" 409 "used by 1 device"

pub() {  # pub DEVICE TOKEN PAYLOAD: MQTT 5.0, QoS 1; prints mosquitto_pub's output
  mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -i "$1" -u "$1" -P "$2" \
    -t "devices/$1/telemetry" -m "$3" 2>&1 || true
}
sql() {
  curl -sS -XPOST "$URL/api/v1/sql?format=csv" -H "Authorization: Token $ADMIN" \
    -H 'Content-Type: application/json' --data-binary "{\"query\":\"$1\"}"
}
out=$(pub mill-1 "$MILL_TOKEN" '{"temperature": 81.5, "rpm": 1200, "status": "run", "time": 1767225600000000000}')
[[ -z $out ]] || fail "good telemetry: $out"
out=$(pub mill-1 "$MILL_TOKEN" '{"temperature": 412.5, "rpm": 1300}')
grep -qi "payload format invalid" <<<"$out" || fail "out of range not refused: $out"
out=$(pub mill-1 "$MILL_TOKEN" '{"humidity": 40}')
grep -qi "payload format invalid" <<<"$out" || fail "unknown field not refused: $out"
# 3.1.1 has no refusal to send back: the message is dropped, counted and logged with the reason.
mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv311 -q 1 -i mill-1 -u mill-1 -P "$MILL_TOKEN" \
  -t devices/mill-1/telemetry -m '{"temperature": 999}' || fail "3.1.1 publish"
for _ in $(seq 1 50); do
  grep -q "field 'temperature' = 999 is above the model's max 150" "$WORK/server.log" && break
  sleep 0.1
done
grep -q "field 'temperature' = 999 is above the model's max 150 (model 'cnc-mill')" \
  "$WORK/server.log" || fail "3.1.1 refusal not logged"
out=$(pub press-7 "$PRESS_TOKEN" '{"humidity": 40}')
[[ -z $out ]] || fail "schemaless device: $out"
[[ $(sql "SELECT device, temperature, rpm, status FROM cnc_mill") == \
   $'device,temperature,rpm,status\nmill-1,81.5,1200,run' ]] || fail "model table: $(sql "SELECT * FROM cnc_mill")"
[[ $(sql "SELECT device, humidity FROM telemetry") == $'device,humidity\npress-7,40' ]] ||
  fail "schemaless table: $(sql "SELECT * FROM telemetry")"
pass "telemetry: checked against the model (5.0: 0x99; 3.1.1: logged), stored in its table; other devices schemaless"

# --- a new version takes effect at once; unassigning makes the device schemaless ------------------
v2=$(jq -c '.version = "2" | .properties[0].max = 500' "$WORK/mill.json")
expect "new version" "$(call "$ADMIN" PUT "/api/v1/models/$MODEL" "$v2")" 200
out=$(pub mill-1 "$MILL_TOKEN" '{"temperature": 412.5, "time": 1767225601000000000}')
[[ -z $out ]] || fail "within the new version's range: $out"
expect "unassign" "$(call "$ADMIN" PUT "/api/v1/devices/$MILL/model" '{"model":null}')" 200 '"model":null'
out=$(pub mill-1 "$MILL_TOKEN" '{"humidity": 41}')
[[ -z $out ]] || fail "unassigned device: $out"
[[ $(sql "SELECT count(*) AS n FROM cnc_mill") == $'n\n2' ]] || fail "rows: $(sql "SELECT * FROM cnc_mill")"
expect "delete once unused" "$(call "$ADMIN" DELETE "/api/v1/models/$MODEL")" 204
pass "models: a new version applies at once; unassigned devices are schemaless"

kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
echo "PASS"

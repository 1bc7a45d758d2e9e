#!/usr/bin/env bash
# End-to-end test of the platform's object model (tests/e2e): customers, users, login, devices and
# role checks with curl, and a device's MQTT token with mosquitto_pub/mosquitto_sub, against the
# real `seaway serve` (issue #7, docs/security.md, docs/mqtt.md).
# Usage: platform_test.sh path/to/seaway
set -euo pipefail

SEAWAY=${1:?usage: platform_test.sh path/to/seaway}
TLS_DIR=$(cd "$(dirname "$0")/../data/tls" && pwd)
WORK=$(mktemp -d /tmp/seaway_platform_e2e_XXXXXX)
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$WORK/server.log" >&2; exit 1; }
pass() { echo "ok: $*"; }
# field JSON KEY: a top-level field of a JSON document (python3 is Debian's, with paho).
field() { /usr/bin/python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(json.dumps(v) if isinstance(v,(list,dict)) else v)' "$1" "$2"; }
# call TOKEN METHOD PATH [BODY]: prints "<status> <body>".
call() {
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

"$SEAWAY" serve --data-dir "$WORK/data" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 \
  --mqtt-tls 127.0.0.1:0 --mqtt-tls-cert "$TLS_DIR/cert.pem" --mqtt-tls-key "$TLS_DIR/key.pem" \
  2>"$WORK/server.log" &
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

# --- customers (a tree) and users, created with the tenant token ---------------------------------
r=$(call "$ADMIN" POST /api/v1/customers '{"name":"plant-lyon"}'); expect "customer" "$r" 201
LYON=$(field "${r#* }" id)
r=$(call "$ADMIN" POST /api/v1/customers "{\"name\":\"lyon-line-1\",\"parent\":$LYON}")
expect "sub-customer" "$r" 201
LINE=$(field "${r#* }" id)
r=$(call "$ADMIN" POST /api/v1/customers '{"name":"plant-turin"}'); expect "customer 2" "$r" 201
TURIN=$(field "${r#* }" id)
expect "duplicate customer" "$(call "$ADMIN" POST /api/v1/customers '{"name":"plant-lyon"}')" 409
expect "customer without a name" "$(call "$ADMIN" POST /api/v1/customers '{}')" 400 "missing 'name'"
expect "unknown parent" "$(call "$ADMIN" POST /api/v1/customers '{"name":"x","parent":999}')" 404
r=$(call "$ADMIN" GET '/api/v1/customers?limit=1&offset=1'); expect "page" "$r" 200
[[ $(field "${r#* }" total) == 3 ]] || fail "customer total: $r"
[[ $(field "${r#* }" items) == *'"lyon-line-1"'* && $(field "${r#* }" items) != *plant-turin* ]] ||
  fail "customer page: $r"
expect "bad limit" "$(call "$ADMIN" GET '/api/v1/customers?limit=x')" 400 "'limit'"
pass "customers: tree, duplicates, pagination, errors"

user() {  # user NAME ROLE CUSTOMER|null
  call "$ADMIN" POST /api/v1/users \
    "{\"name\":\"$1\",\"role\":\"$2\",\"customer\":$3,\"password\":\"$1-password\"}"
}
expect "operator" "$(user alice operator null)" 201
expect "customer admin" "$(user carol customer-admin "$LYON")" 201
expect "customer user" "$(user dave customer-user "$LINE")" 201
expect "turin user" "$(user tina customer-user "$TURIN")" 201
expect "bad role" "$(user erin boss null)" 400 "tenant-admin"
expect "customer role without customer" "$(user erin customer-user null)" 400 "needs a customer"
expect "no password" "$(call "$ADMIN" POST /api/v1/users '{"name":"x","role":"viewer"}')" 400 \
  "missing 'password'"
pass "users with roles; bad roles and fields refused"

# --- login and what each role may do ------------------------------------------------------------
login() { call "" POST /api/v1/auth/login "{\"tenant\":\"default\",\"user\":\"$1\",\"password\":\"$2\"}"; }
r=$(login alice alice-password); expect "login" "$r" 200 token
ALICE=$(field "${r#* }" token)
r=$(call "$ALICE" GET /api/v1/auth/whoami); expect "whoami" "$r" 200 '"role":"operator"'
expect "operator lists users" "$(call "$ALICE" GET /api/v1/users)" 403 "lacks permission 'users.manage'"
expect "operator creates customers" "$(call "$ALICE" POST /api/v1/customers '{"name":"z"}')" 403
r=$(call "$ALICE" GET /api/v1/customers); expect "operator lists customers" "$r" 200
[[ $(field "${r#* }" total) == 3 ]] || fail "operator sees every customer: $r"

CAROL=$(field "$(login carol carol-password | cut -d' ' -f2-)" token)
r=$(call "$CAROL" GET /api/v1/customers); expect "customer admin lists" "$r" 200
[[ $(field "${r#* }" total) == 2 && $r != *plant-turin* ]] || fail "customer admin sees: $r"
expect "customer admin creates a sub-customer" \
  "$(call "$CAROL" POST /api/v1/customers "{\"name\":\"lyon-line-2\",\"parent\":$LYON}")" 201
expect "customer admin creates a top customer" \
  "$(call "$CAROL" POST /api/v1/customers '{"name":"mine"}')" 403
expect "customer admin, foreign parent" \
  "$(call "$CAROL" POST /api/v1/customers "{\"name\":\"t2\",\"parent\":$TURIN}")" 403
expect "customer admin creates a user below" "$(call "$CAROL" POST /api/v1/users \
  "{\"name\":\"lea\",\"role\":\"customer-user\",\"customer\":$LINE,\"password\":\"lea-password\"}")" 201
expect "customer admin creates an operator" "$(call "$CAROL" POST /api/v1/users \
  '{"name":"op2","role":"operator","password":"op2-password"}')" 403 "cannot create role 'operator'"
expect "customer admin, foreign customer" "$(call "$CAROL" POST /api/v1/users \
  "{\"name\":\"tom\",\"role\":\"customer-user\",\"customer\":$TURIN,\"password\":\"tom-password\"}")" 403
r=$(call "$CAROL" GET /api/v1/users); expect "customer admin lists users" "$r" 200
for name in carol dave lea; do [[ $r == *"\"$name\""* ]] || fail "carol should see $name: $r"; done
for name in alice tina; do [[ $r != *"\"$name\""* ]] || fail "carol must not see $name: $r"; done
pass "roles: operator, customer admin inside its subtree only"

DAVE=$(field "$(login dave dave-password | cut -d' ' -f2-)" token)
expect "customer user lists users" "$(call "$DAVE" GET /api/v1/users)" 403
# Routes that act for the whole tenant (writes, commands) refuse customer sessions.
r=$(call "$DAVE" POST '/write?db=main' 'telemetry,device=press-7 temperature=1')
[[ ${r%% *} == 401 || ${r%% *} == 403 ]] || fail "customer session wrote: $r"
pass "customer user: no user management, no tenant-wide writes"

# --- devices: created by tenant roles, seen per customer, connected over MQTT with their token ---
r=$(call "$ADMIN" POST /api/v1/devices "{\"name\":\"press-7\",\"customer\":$LINE}")
expect "device" "$r" 201 '"telemetry":"devices/press-7/telemetry"'
PRESS=$(field "${r#* }" token)
expect "device by an operator" "$(call "$ALICE" POST /api/v1/devices '{"name":"meter-1"}')" 201
expect "duplicate device" "$(call "$ALICE" POST /api/v1/devices '{"name":"meter-1"}')" 409
expect "device name with a slash" "$(call "$ALICE" POST /api/v1/devices '{"name":"a/b"}')" 400
expect "device by a customer user" "$(call "$DAVE" POST /api/v1/devices '{"name":"x"}')" 403
r=$(call "$DAVE" GET /api/v1/devices); expect "customer user lists devices" "$r" 200
[[ $(field "${r#* }" total) == 1 && $r == *press-7* && $r != *meter-1* ]] || fail "dave sees: $r"
r=$(call "$ALICE" GET /api/v1/devices); expect "operator lists devices" "$r" 200
[[ $(field "${r#* }" total) == 2 ]] || fail "alice sees: $r"
MQTT=$(grep -o 'listener=mqtt address=127\.0\.0\.1:[0-9]*' "$WORK/server.log" | head -1 | grep -o '[0-9]*$')
pub() {  # pub VERSION TOPIC PAYLOAD: as device press-7, QoS 1; stderr to $WORK/pub.err
  mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V "$1" -q 1 -i press-7 -u press-7 -P "$PRESS" \
    -t "$2" -m "$3" 2>"$WORK/pub.err"
}
pub mqttv5 devices/press-7/telemetry '{"temperature":21.5}' || fail "device publish: $(cat "$WORK/pub.err")"
pub mqttv5 devices/meter-1/telemetry '{"temperature":99}' || true
grep -q "Not authorized" "$WORK/pub.err" || fail "foreign topic not refused: $(cat "$WORK/pub.err")"
pub mqttv311 devices/meter-1/telemetry '{"temperature":98}' || true
timeout 5 mosquitto_sub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -i press-7-sub -u press-7 -P "$PRESS" \
  -t '#' -C 1 2>"$WORK/sub.err" || true
grep -q "denied" "$WORK/sub.err" || fail "subscription to # not denied: $(cat "$WORK/sub.err")"
r=$(call "$ADMIN" POST /api/v1/sql '{"query":"SELECT device, temperature FROM telemetry ORDER BY device"}')
expect "device telemetry stored" "$r" 200 '"rows":[["press-7",21.5]]'
r=$(mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u x -P nope -t devices/press-7/telemetry \
  -m '{}' 2>&1 || true)
[[ $r == *"Bad User Name or Password"* ]] || fail "wrong device token: $r"
printf 'name,customer\nvalve-1,%s\nvalve-2,\n' "$LINE" > "$WORK/devices.csv"
code=$(curl -sS -o "$WORK/imported.csv" -w '%{http_code}' -XPOST "$URL/api/v1/devices/import" \
  -H "Authorization: Token $ADMIN" -H 'Content-Type: text/csv' --data-binary @"$WORK/devices.csv")
[[ $code == 201 && $(head -1 "$WORK/imported.csv") == name,id,token && \
   $(wc -l < "$WORK/imported.csv") == 3 ]] || fail "import gave $code: $(cat "$WORK/imported.csv")"
printf 'valve-3\nvalve-1\n' > "$WORK/again.csv"
code=$(curl -sS -o "$WORK/again.out" -w '%{http_code}' -XPOST "$URL/api/v1/devices/import" \
  -H "Authorization: Token $ADMIN" --data-binary @"$WORK/again.csv")
[[ $code == 409 ]] && grep -q "line 2: device 'valve-1' already exists" "$WORK/again.out" ||
  fail "import of an existing device gave $code: $(cat "$WORK/again.out")"
r=$(call "$ADMIN" GET /api/v1/devices); [[ $r != *valve-3* ]] || fail "a refused import left valve-3"
pass "devices: per-customer lists, MQTT with the device token, its own topics only, CSV import"

# --- SQL as a customer's user: its devices' series only --------------------------------------------
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "$URL/write?db=main" \
  -H "Authorization: Token $ADMIN" --data-binary 'telemetry,device=meter-1 temperature=50')
[[ $code == 204 ]] || fail "admin write gave $code"
r=$(call "$ADMIN" POST /api/v1/sql '{"query":"SELECT count(*) FROM telemetry"}')
expect "admin sees every device" "$r" 200 '"rows":[[2]]'
r=$(call "$DAVE" POST /api/v1/sql '{"query":"SELECT device, temperature FROM telemetry"}')
expect "customer user SQL" "$r" 200 '"rows":[["press-7",21.5]]'
r=$(call "$DAVE" POST /api/v1/sql '{"query":"SELECT count(*) FROM telemetry WHERE device = '"'meter-1'"'"}')
expect "customer user asks for another device" "$r" 200 '"rows":[[0]]'
r=$(call "$DAVE" POST /api/v1/sql '{"query":"SELECT tags FROM system.series"}')
[[ $r == *press-7* && $r != *meter-1* ]] || fail "customer user system.series: $r"
pass "SQL: a customer user reads only its devices' series"

# --- API tokens with scopes --------------------------------------------------------------------------
r=$(call "$ADMIN" POST /api/v1/tokens '{"description":"dashboards","scopes":["data.read"],"expires_in_s":3600}')
expect "scoped token" "$r" 201 '"scopes":["data.read"]'
READER=$(field "${r#* }" token)
expect "scoped token reads" "$(call "$READER" POST /api/v1/sql '{"query":"SELECT 1"}')" 200
r=$(call "$READER" POST '/write?db=main' 'telemetry,device=x temperature=1')
expect "scoped token writes" "$r" 403 "the token's scopes do not include 'data.write'"
expect "scoped token escalates" "$(call "$READER" POST /api/v1/tokens '{"description":"x","scopes":["data.write"]}')" 403
expect "operator token beyond its role" \
  "$(call "$ALICE" POST /api/v1/tokens '{"description":"x","scopes":["users.manage"]}')" 403 "beyond"
expect "unknown scope" "$(call "$ADMIN" POST /api/v1/tokens '{"description":"x","scopes":["root"]}')" 400
expect "customer user makes tokens" "$(call "$DAVE" POST /api/v1/tokens '{"description":"x"}')" 403
expect "empty scope list" "$(call "$ADMIN" POST /api/v1/tokens '{"description":"x","scopes":[]}')" 400 "'scopes' is empty"
# The answer carries the id the list shows and DELETE takes.
r=$(call "$ADMIN" POST /api/v1/tokens '{"description":"short-lived","scopes":["data.read"]}')
expect "token with id" "$r" 201 '"kind":"api"'
SHORT=$(field "${r#* }" token); SHORT_ID=$(field "${r#* }" id)
expect "token listed by id" "$(call "$ADMIN" GET /api/v1/tokens)" 200 "\"id\":$SHORT_ID,"
expect "token revoked by id" "$(call "$ADMIN" DELETE "/api/v1/tokens/$SHORT_ID")" 204
expect "revoked token" "$(call "$SHORT" POST /api/v1/sql '{"query":"SELECT 1"}')" 401
pass "API tokens: scoped, never beyond their creator, revoked by the id they are made with"

# --- the same with `seaway admin` ----------------------------------------------------------------
ADM=("$SEAWAY" admin --url "$URL" --data-dir "$WORK/data")
out=$("${ADM[@]}" customer create plant-oslo) || fail "admin customer create: $out"
OSLO=$(field "$out" id)
echo "olav-password" | "${ADM[@]}" user create olav --role customer-user --customer "$OSLO" \
  >/dev/null || fail "admin user create"
out=$("${ADM[@]}" device create kiln-1 --customer "$OSLO") || fail "admin device create: $out"
[[ $(field "$out" token) =~ ^[0-9a-f]{64}$ ]] || fail "admin device create printed: $out"
printf 'kiln-2,%s\n' "$OSLO" > "$WORK/kilns.csv"
out=$("${ADM[@]}" device import "$WORK/kilns.csv") || fail "admin device import: $out"
[[ $out == name,id,token*kiln-2,* ]] || fail "admin device import printed: $out"
out=$("${ADM[@]}" device list) || fail "admin device list"
[[ $out == *kiln-1* && $out == *kiln-2* ]] || fail "admin device list: $out"
r=$(login olav olav-password); expect "admin-made user logs in" "$r" 200 token
err=$("${ADM[@]}" device create kiln-1 2>&1 >/dev/null) && fail "duplicate device accepted"
[[ $err == *"409"*"already exists"* ]] || fail "admin duplicate device: $err"
err=$("${ADM[@]}" --token nope device list 2>&1 >/dev/null) && fail "bad token accepted"
[[ $err == *401* ]] || fail "admin with a bad token: $err"
pass "seaway admin: customers, users (password on stdin), devices, import, errors"

# --- assets: a hierarchy with devices; a customer sees only the assets assigned to it -------------
out=$("${ADM[@]}" asset create oslo-plant --type site --customer "$OSLO") || fail "asset: $out"
A_SITE=$(field "$out" id)
out=$("${ADM[@]}" asset create kiln-line --type line --parent "$A_SITE") || fail "asset: $out"
A_LINE=$(field "$out" id)
out=$("${ADM[@]}" asset list) || fail "admin asset list"
[[ $out == *oslo-plant* && $out == *kiln-line* ]] || fail "admin asset list: $out"
r=$(call "$ADMIN" GET /api/v1/devices); KILN_ID=$(/usr/bin/python3 -c 'import json,sys
print([d["id"] for d in json.loads(sys.argv[1])["items"] if d["name"]=="kiln-1"][0])' "${r#* }")
expect "attach" "$(call "$ADMIN" PUT "/api/v1/assets/$A_LINE/devices/$KILN_ID")" 204
expect "subtree devices" "$(call "$ADMIN" GET "/api/v1/assets/$A_SITE/devices?recursive=true")" \
  200 '"name":"kiln-1"'
expect "cycle" "$(call "$ADMIN" PATCH "/api/v1/assets/$A_SITE" "{\"parent\":$A_LINE}")" 400 \
  "own ancestor"
OLAV_A=$(field "$(login olav olav-password | cut -d' ' -f2-)" token)
r=$(call "$OLAV_A" GET /api/v1/assets); expect "customer's assets" "$r" 200 oslo-plant
[[ $r != *kiln-line* ]] || fail "an unassigned asset shown to a customer: $r"
expect "another customer's asset" "$(call "$DAVE" GET "/api/v1/assets/$A_SITE")" 404
expect "customer writes" "$(call "$OLAV_A" PATCH "/api/v1/assets/$A_SITE" '{"name":"x"}')" 403
expect "delete with children" "$(call "$ADMIN" DELETE "/api/v1/assets/$A_SITE")" 409 "1 child"
expect "delete subtree" "$(call "$ADMIN" DELETE "/api/v1/assets/$A_SITE?recursive=true")" 204
expect "device kept" "$(call "$ADMIN" GET "/api/v1/devices/$KILN_ID")" 200
pass "assets: hierarchy, devices, cycles refused, customer scope, delete rules"

# --- deeply nested JSON: refused, never a crash --------------------------------------------------
# Printing or copying a JSON value recurses once per level: a 400 KB body or a device's answer
# nested 200,000 levels deep overflowed a thread's stack and stopped the server for every tenant.
r=$(call "$ADMIN" GET /api/v1/devices); DEEP_ID=$(/usr/bin/python3 -c 'import json,sys
print([d["id"] for d in json.loads(sys.argv[1])["items"] if d["name"]=="press-7"][0])' "${r#* }")
/usr/bin/python3 -c 'd = "[" * 200000 + "]" * 200000
open("'"$WORK"'/deep-twin.json", "w").write("{\"desired\":{\"a\":" + d + "}}")
open("'"$WORK"'/deep-command.json", "w").write("{\"device\":\"press-7\",\"method\":\"m\",\"params\":" + d + "}")'
deep() {  # deep METHOD PATH FILE: prints "<status> <body>"
  local code
  code=$(curl -sS -o "$WORK/out" -w '%{http_code}' -X "$1" "$URL$2" -H "Authorization: Token $ADMIN" \
    --data-binary "@$3")
  echo "$code $(cat "$WORK/out")"
}
expect "deep twin" "$(deep PATCH "/api/v1/devices/$DEEP_ID/twin" "$WORK/deep-twin.json")" 400 \
  "nests deeper than 64 levels"
expect "deep command" "$(deep POST /api/v1/commands "$WORK/deep-command.json")" 400 \
  "nests deeper than 64 levels"
# The device answers a command with such a document: the caller gets it as a string.
/usr/bin/python3 - "$MQTT" "$PRESS" > "$WORK/deep-device.log" 2>&1 <<'PY' &
import sys, time
import paho.mqtt.client as mqtt
answer = "[" * 200000 + "]" * 200000
c = mqtt.Client(client_id="press-7-deep", protocol=mqtt.MQTTv5)
c.username_pw_set("press-7", sys.argv[2])
c.on_message = lambda c, u, m: c.publish(m.properties.ResponseTopic, answer, qos=1)
c.on_connect = lambda c, u, f, rc, p=None: c.subscribe("devices/press-7/rpc/request/+", qos=1)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_start()
time.sleep(10)
PY
DEVICE=$!
for _ in $(seq 1 100); do
  r=$(call "$ADMIN" POST /api/v1/commands '{"device":"press-7","method":"m","wait":true,"timeout_ms":3000}')
  [[ ${r%% *} != 404 ]] && break
  sleep 0.1
done
expect "deep answer" "$r" 200 '"response":"[[[['
kill "$DEVICE" 2>/dev/null || true; wait "$DEVICE" 2>/dev/null || true
expect "still serving" "$(call "" GET /health)" 200 '"status":"ok"'
pass "deeply nested JSON bodies and answers refused or passed as text, the server up"

# --- deleting: a device's token and a user's sessions stop working ---------------------------------
r=$(call "$ADMIN" GET /api/v1/devices); PRESS_ID=$(/usr/bin/python3 -c 'import json,sys
print([d["id"] for d in json.loads(sys.argv[1])["items"] if d["name"]=="press-7"][0])' "${r#* }")
expect "device by id" "$(call "$DAVE" GET "/api/v1/devices/$PRESS_ID")" 200 '"name":"press-7"'
OLAV=$(field "$(login olav olav-password | cut -d' ' -f2-)" token)
expect "another customer's device" "$(call "$OLAV" GET "/api/v1/devices/$PRESS_ID")" 404
expect "customer user deletes a device" "$(call "$DAVE" DELETE "/api/v1/devices/$PRESS_ID")" 403
# A connected device is disconnected when deleted (mosquitto_sub ends instead of waiting).
timeout 20 mosquitto_sub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -i press-7-cmd -u press-7 -P "$PRESS" \
  -t 'devices/press-7/rpc/request/+' > /dev/null 2>"$WORK/revoked.err" &
SUB=$!
for _ in $(seq 1 100); do
  curl -sS -H "Authorization: Bearer $ADMIN" "$URL/metrics" | grep -q '^seaway_mqtt_connections 1' && break
  sleep 0.05
done
expect "device deleted" "$(call "$ALICE" DELETE "/api/v1/devices/$PRESS_ID")" 204
expect "device gone" "$(call "$ALICE" DELETE "/api/v1/devices/$PRESS_ID")" 404
start=$(date +%s%N); wait "$SUB" || true
(( ($(date +%s%N) - start) / 1000000 < 5000 )) || fail "deleted device stayed connected"
grep -qi "not authorized\|disconnect" "$WORK/revoked.err" || true
r=$(mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u press-7 -P "$PRESS" \
  -t devices/press-7/telemetry -m '{}' 2>&1 || true)
[[ $r == *"Bad User Name or Password"* ]] || fail "deleted device's token still connects: $r"
r=$(call "$ADMIN" GET /api/v1/users); OLAV_ID=$(/usr/bin/python3 -c 'import json,sys
print([u["id"] for u in json.loads(sys.argv[1])["items"] if u["name"]=="olav"][0])' "${r#* }")
expect "customer admin deletes a foreign user" "$(call "$CAROL" DELETE "/api/v1/users/$OLAV_ID")" 404
expect "user deleted" "$(call "$ADMIN" DELETE "/api/v1/users/$OLAV_ID")" 204
expect "deleted user's session" "$(call "$OLAV" GET /api/v1/auth/whoami)" 401
expect "bad id" "$(call "$ADMIN" DELETE /api/v1/users/abc)" 400
pass "deletes: devices and users, with their tokens and sessions"

# --- wrong passwords ------------------------------------------------------------------------------
expect "wrong password" "$(login alice nope)" 401 "invalid tenant, user or password"
expect "unknown user" "$(login nobody alice-password)" 401 "invalid tenant, user or password"
for _ in 1 2 3; do login alice nope >/dev/null; done
expect "rate limited" "$(login alice alice-password)" 429 "too many failed logins"
expect "no token" "$(call "" GET /api/v1/auth/whoami)" 401 "missing token"
expect "bad token" "$(call "not-a-token-at-all" GET /api/v1/auth/whoami)" 401
pass "logins: one answer for every wrong part, rate limited after 5 failures"

# --- MQTT CONNECT failures are limited per user name --------------------------------------------
KILN_TOKEN=$(field "$(call "$ADMIN" POST /api/v1/devices '{"name":"kiln-9"}' | cut -d' ' -f2-)" token)
for _ in 1 2 3 4 5; do
  mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -u kiln-9 -P wrong-token -t devices/kiln-9/t \
    -m x >/dev/null 2>&1 || true
done
r=$(mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -u kiln-9 -P "$KILN_TOKEN" \
  -t devices/kiln-9/telemetry -m '{}' 2>&1 || true)
[[ $r == *"rate"* || $r == *"Rate"* ]] || fail "6th CONNECT after 5 failures not limited: $r"
r=$(mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -u kiln-9-other -P "$KILN_TOKEN" \
  -t devices/kiln-9/telemetry -m '{}' 2>&1) || fail "another user name from the same address: $r"
pass "MQTT: 5 failed CONNECTs for a user name refuse the next (0x9F), not the address"

# --- device credentials: user name and password, X.509 certificate, token rotation, provisioning ----
r=$(call "$ADMIN" POST /api/v1/devices '{"name":"boiler-1"}'); expect "boiler" "$r" 201
BOILER_ID=$(field "${r#* }" id)
r=$(call "$ADMIN" PUT "/api/v1/devices/$BOILER_ID/credentials" \
  "{\"username\":\"boiler-1@default\",\"password\":\"boiler-pass-1\",\"certificates\":[$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$TLS_DIR/chain.pem")]}")
expect "device credentials" "$r" 200 '"username":"boiler-1@default"'
[[ $r == *87d7b3a0bd0ee4236d01e8dfb5d42bc3ee4851fa406cdcbabb15d61979f796cd* ]] ||
  fail "certificate fingerprint not listed: $r"
mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u boiler-1@default -P boiler-pass-1 \
  -t devices/boiler-1/telemetry -m '{"pressure":2.5}' || fail "device user name and password refused"
r=$(mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u boiler-1@default -P wrong \
  -t devices/boiler-1/telemetry -m '{}' 2>&1 || true)
[[ $r == *"Bad User Name or Password"* ]] || fail "wrong device password: $r"
MQTTS=$(grep -o 'listener=mqtts address=127\.0\.0\.1:[0-9]*' "$WORK/server.log" | head -1 | grep -o '[0-9]*$')
mosquitto_pub -h localhost -p "$MQTTS" --cafile "$TLS_DIR/cert.pem" --cert "$TLS_DIR/chain.pem" \
  --key "$TLS_DIR/chain_key.pem" -V mqttv5 -q 1 -t devices/boiler-1/telemetry -m '{"pressure":2.75}' \
  || fail "device certificate refused"
r=$(mosquitto_pub -h localhost -p "$MQTTS" --cafile "$TLS_DIR/cert.pem" --cert "$TLS_DIR/chain.pem" \
  --key "$TLS_DIR/chain_key.pem" -V mqttv5 -q 1 -t devices/press-9/telemetry -m '{}' 2>&1 || true)
[[ $r == *"Not authorized"* ]] || fail "certificate device published elsewhere: $r"
r=$(call "$ADMIN" POST /api/v1/sql '{"query":"SELECT count(*), sum(pressure) FROM telemetry WHERE device = '"'boiler-1'"'"}')
expect "password and certificate telemetry" "$r" 200 '"rows":[[2,5.25]]'
r=$(call "$ADMIN" POST "/api/v1/devices/$BOILER_ID/token"); expect "token rotated" "$r" 201
expect "provisioning key naming no model" \
  "$(call "$ADMIN" POST /api/v1/provisioning-keys '{"name":"ghosts","model":"no-such-model"}')" 400 \
  "'model': thing model 'no-such-model' does not exist"
r=$(call "$ADMIN" POST /api/v1/provisioning-keys "{\"name\":\"line-2\",\"customer\":$LINE,\"max_devices\":1}")
expect "provisioning key" "$r" 201 '"secret"'
PKEY=$(field "${r#* }" key); PSECRET=$(field "${r#* }" secret)
r=$(call "" POST /api/v1/provision "{\"key\":\"$PKEY\",\"secret\":\"$PSECRET\",\"device\":\"mill-1\"}")
expect "self-provisioned" "$r" 201 '"name":"mill-1"'
MILL=$(field "${r#* }" token)
mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u mill-1 -P "$MILL" -t devices/mill-1/telemetry \
  -m '{"rpm":1200}' || fail "provisioned device publish"
expect "second device past max_devices" \
  "$(call "" POST /api/v1/provision "{\"key\":\"$PKEY\",\"secret\":\"$PSECRET\",\"device\":\"mill-2\"}")" 429 "made its 1 devices"
expect "wrong secret" \
  "$(call "" POST /api/v1/provision "{\"key\":\"$PKEY\",\"secret\":\"nope\",\"device\":\"mill-3\"}")" 401
r=$(call "$DAVE" GET /api/v1/devices); [[ $r == *mill-1* ]] || fail "provisioned device not in its customer: $r"
pass "device credentials: password, X.509 fingerprint, token rotation, self-provisioning"

# --- device twins: desired over HTTP pushed over MQTT, reported from the device ----------------
r=$(call "$ADMIN" PATCH "/api/v1/devices/$BOILER_ID/twin" '{"desired":{"setpoint":70},"tags":{"site":"lyon"}}')
expect "twin desired" "$r" 200 '"delta":{"setpoint":70}'
r=$(timeout 10 mosquitto_sub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -u boiler-1@default -P boiler-pass-1 \
  -t devices/boiler-1/twin/desired -C 1 -W 5 2>&1) || fail "desired state not retained: $r"
[[ $r == '{"$version":1,"setpoint":70}' ]] || fail "retained desired state: $r"
mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u boiler-1@default -P boiler-pass-1 \
  -t devices/boiler-1/twin/reported -m '{"setpoint":70,"firmware":"2.1"}' || fail "reported update"
r=$(mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1 -u boiler-1@default -P boiler-pass-1 \
  -t devices/boiler-1/twin/reported -m '[1]' 2>&1 || true)
[[ $r == *"Payload format invalid"* ]] || fail "bad reported update not refused: $r"
r=$(call "$ADMIN" GET "/api/v1/devices/$BOILER_ID/twin")
expect "twin after report" "$r" 200 '"delta":{}'
[[ $r == *'"reported_version":1'* && $r == *'"firmware":"2.1"'* ]] || fail "twin: $r"
expect "pending twins" "$(call "$ADMIN" GET '/api/v1/twins?pending=true&tag.site=lyon')" 200 '"total":0'
expect "twins by reported value" "$(call "$ADMIN" GET '/api/v1/twins?reported.firmware=2.1')" 200 '"total":1'
expect "another customer's twin" "$(call "$DAVE" GET "/api/v1/devices/$BOILER_ID/twin")" 404
expect "customer user changes a twin" \
  "$(call "$DAVE" PATCH "/api/v1/devices/$BOILER_ID/twin" '{"desired":{"setpoint":1}}')" 403
pass "twins: desired pushed (retained) over MQTT, reported from the device, delta, queries"

# --- tenants, settings and quotas ----------------------------------------------------------------
r=$(call "$ADMIN" POST /api/v1/tenants '{"name":"acme","settings":{"quotas":{"messages_per_s":2}}}')
expect "tenant created by the system token" "$r" 201 '"admin_token"'
ACME=$(field "${r#* }" admin_token)
expect "tenant admin creates tenants" "$(call "$ACME" POST /api/v1/tenants '{"name":"x"}')" 403
expect "acme sees none of default's devices" "$(call "$ACME" GET /api/v1/devices)" 200 '"total":0'
r=$(call "$ACME" POST /api/v1/devices '{"name":"pump-1"}'); expect "acme device" "$r" 201
PUMP=$(field "${r#* }" token)
# Ten QoS 1 messages at once, two per second allowed: the rest get 0x97 (quota exceeded).
seq 1 10 | sed 's/.*/{"flow":&}/' | mosquitto_pub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -q 1   -u pump-1 -P "$PUMP" -t devices/pump-1/telemetry -l 2>"$WORK/quota.err" || true
grep -qi "quota exceeded" "$WORK/quota.err" || fail "MQTT quota not enforced: $(cat "$WORK/quota.err")"
r=$(call "$ACME" POST /api/v1/sql '{"query":"SELECT count(*) FROM telemetry"}')
n=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["rows"][0][0])' "${r#* }")
(( n >= 1 && n < 10 )) || fail "acme stored $n of 10 messages past its quota: $r"
expect "default unaffected" "$(call "$ADMIN" POST /api/v1/sql '{"query":"SELECT count(*) FROM telemetry"}')" 200
r=$(call "$ACME" PATCH /api/v1/tenant '{"time_zone":"Europe/Paris","retention_s":604800}')
expect "tenant settings" "$r" 200 '"time_zone":"Europe/Paris"'
pass "tenants: created by the system token, isolated, MQTT messages quota (0x97), settings"

# --- seaway admin for tenants; deleting one takes its objects, data and clients -------------------
out=$("${ADM[@]}" tenant create lab --time-zone Europe/Oslo) || fail "admin tenant create: $out"
LAB=$(field "$out" admin_token); LAB_ID=$(field "$out" id)
out=$("${ADM[@]}" tenant list) || fail "admin tenant list"
[[ $out == *'"lab"'* && $out == *Europe/Oslo* ]] || fail "admin tenant list: $out"
r=$(call "$LAB" POST /api/v1/devices '{"name":"probe-1"}'); expect "lab device" "$r" 201
PROBE=$(field "${r#* }" token)
expect "lab writes" "$(call "$LAB" POST '/write?db=main' 'lab_secret,site=x v=7')" 204
mosquitto_sub -h 127.0.0.1 -p "$MQTT" -V mqttv5 -u probe-1 -P "$PROBE" -t 'devices/probe-1/#' \
  >"$WORK/lab-sub.out" 2>"$WORK/lab-sub.err" &
SUB=$!
sleep 0.5
out=$("${ADM[@]}" tenant delete "$LAB_ID") || fail "admin tenant delete: $out"
[[ $out == "deleted tenant $LAB_ID" ]] || fail "admin tenant delete printed: $out"
for _ in $(seq 1 50); do kill -0 "$SUB" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SUB" 2>/dev/null && { kill "$SUB"; fail "the deleted tenant's MQTT client stayed connected"; }
wait "$SUB" || true
expect "deleted tenant's token" "$(call "$LAB" GET /api/v1/tenant)" 401
err=$("${ADM[@]}" tenant delete 1 2>&1 >/dev/null) && fail "the system tenant deleted itself"
[[ $err == *409*"cannot delete itself"* ]] || fail "admin deleting its own tenant: $err"
out=$("${ADM[@]}" tenant create lab) || fail "admin tenant create again: $out"
LAB2=$(field "$out" admin_token)
expect "the name's new tenant has none of the old data" \
  "$(call "$LAB2" POST /api/v1/sql '{"query":"SELECT * FROM lab_secret"}')" 404 "does not exist"
pass "seaway admin tenant create/list/delete: a deleted tenant's tokens, data and MQTT clients go"

# --- restart: users, customers and sessions persist ---------------------------------------------
kill -TERM "$PID"; wait "$PID" || true
"$SEAWAY" serve --data-dir "$WORK/data" --http "127.0.0.1:$PORT" --mqtt 127.0.0.1:0 \
  2>>"$WORK/server.log" &
PID=$!
for _ in $(seq 1 200); do curl -sf "$URL/health" >/dev/null 2>&1 && break; sleep 0.05; done
expect "session after restart" "$(call "$CAROL" GET /api/v1/auth/whoami)" 200 '"role":"customer-admin"'
expect "tenant after restart" "$(call "$ACME" GET /api/v1/tenant)" 200 '"retention_s":604800'
pass "restart keeps users, customers, sessions and tenants"
echo "platform e2e: all passed"

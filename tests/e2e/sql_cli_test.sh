#!/usr/bin/env bash
# End-to-end test of the SQL interfaces (tests/e2e): the real `seaway serve` written to with curl,
# queried with curl (JSON, CSV, NDJSON, errors) and with `seaway sql` (table, csv, the statement
# reader on a pipe and its statement splitting, escaping of control characters, Ctrl-C at the
# prompt, errors and exit codes).
# Usage: sql_cli_test.sh path/to/seaway
set -euo pipefail

SEAWAY=${1:?usage: sql_cli_test.sh path/to/seaway}
WORK=$(mktemp -d /tmp/seaway_sql_e2e_XXXXXX)
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$WORK/server.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

"$SEAWAY" serve --data-dir "$WORK/data" --http 127.0.0.1:0 --mqtt 127.0.0.1:0 \
  --sql-timeout-ms 10000 2>"$WORK/server.log" &
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
TOKEN=$(cat "$WORK/data/admin-token")

# --- write with curl --------------------------------------------------------------------------
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "$URL/write?db=main&precision=s" \
  -H "Authorization: Token $TOKEN" \
  --data-binary $'cpu,host=a usage=1.5,n=3i 1767225600\ncpu,host=b usage=2.25,n=4i 1767225601\n')
[[ "$code" == 204 ]] || fail "write gave $code"
seq 1 20000 | awk '{printf "big,host=h%d v=%d.5 %d\n", $1 % 3, $1, 1767225600 + $1}' > "$WORK/big.lp"
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "$URL/write?db=main&precision=s" \
  -H "Authorization: Token $TOKEN" --data-binary @"$WORK/big.lp")
[[ "$code" == 204 ]] || fail "big write gave $code"
pass "rows written with curl"

# --- query with curl --------------------------------------------------------------------------
body=$(curl -sS --fail -XPOST "$URL/api/v1/sql" -H "Authorization: Token $TOKEN" \
  -d '{"query":"SELECT time, host, usage FROM cpu ORDER BY host"}')
expected='{"columns":[{"name":"time","type":"TIMESTAMP"},{"name":"host","type":"TEXT"},{"name":"usage","type":"DOUBLE"}],"rows":[["2026-01-01T00:00:00Z","a",1.5],
["2026-01-01T00:00:01Z","b",2.25]]}'
[[ "$body" == "$expected" ]] || fail "JSON result: $body"
body=$(curl -sS --fail -G "$URL/api/v1/sql" -H "Authorization: Bearer $TOKEN" \
  --data-urlencode 'q=SELECT host, n FROM cpu ORDER BY n DESC' --data-urlencode format=csv)
[[ "$body" == $'host,n\nb,4\na,3' ]] || fail "CSV result: $body"
curl -sS --fail -D "$WORK/h" -XPOST "$URL/api/v1/sql?format=ndjson" -H "Authorization: Token $TOKEN" \
  -d '{"query":"SELECT * FROM big"}' > "$WORK/big.ndjson"
grep -qi '^transfer-encoding: chunked' "$WORK/h" || fail "large NDJSON not chunked: $(cat "$WORK/h")"
[[ $(wc -l < "$WORK/big.ndjson") == 20001 ]] || fail "NDJSON lines: $(wc -l < "$WORK/big.ndjson")"
head -1 "$WORK/big.ndjson" | grep -q '^{"columns":\[{"name":"time","type":"TIMESTAMP"}' \
  || fail "NDJSON first line: $(head -1 "$WORK/big.ndjson")"
code=$(curl -sS -o "$WORK/err.json" -w '%{http_code}' -XPOST "$URL/api/v1/sql" \
  -H "Authorization: Token $TOKEN" -d '{"query":"SELECT FROM WHERE"}')
[[ "$code" == 400 ]] || fail "syntax error gave $code"
grep -q 'line 1, column' "$WORK/err.json" || fail "syntax error body: $(cat "$WORK/err.json")"
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "$URL/api/v1/sql" \
  -H "Authorization: Token $TOKEN" -d '{"query":"SELECT * FROM nope"}')
[[ "$code" == 404 ]] || fail "unknown table gave $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "$URL/api/v1/sql" -d '{"query":"SELECT 1"}')
[[ "$code" == 401 ]] || fail "no token gave $code"
pass "curl: JSON, CSV, chunked NDJSON, 400 with position, 404, 401"

# --- query with seaway sql --------------------------------------------------------------------
out=$("$SEAWAY" sql --url "$URL" --data-dir "$WORK/data" "SELECT host, n, usage FROM cpu ORDER BY host")
grep -q '^ host | n | usage$' <<<"$out" || fail "table header: $out"
grep -q '^ a    | 3 |   1.5$' <<<"$out" || fail "table row: $out"
grep -q '^(2 rows, [0-9]* ms)$' <<<"$out" || fail "row count: $out"
out=$(SEAWAY_TOKEN="$TOKEN" "$SEAWAY" sql --url "$URL" --format csv "SELECT count(*) AS c FROM big")
[[ "$out" == $'c\n20000' ]] || fail "csv via SEAWAY_TOKEN: $out"
set +e
"$SEAWAY" sql --url "$URL" --token "$TOKEN" "SELECT * FROM nope" >"$WORK/out" 2>"$WORK/err"
status=$?
set -e
[[ $status == 1 ]] || fail "error exit status $status"
grep -q 'does not exist' "$WORK/err" || fail "error message: $(cat "$WORK/err")"
set +e
printf 'SELECT host\n  FROM cpu\n  WHERE n > 3;\nSELEC 1;\nSELECT 2 AS two;\n' \
  | "$SEAWAY" sql --url "$URL" --token "$TOKEN" >"$WORK/out" 2>"$WORK/err"
status=$?
set -e
[[ $status == 1 ]] || fail "piped statements with one error: exit $status"
grep -q '^ b$' "$WORK/out" || fail "multi-line statement: $(cat "$WORK/out")"
grep -q '^ two$' "$WORK/out" || fail "statement after an error: $(cat "$WORK/out")"
grep -q 'syntax error' "$WORK/err" || fail "syntax error not printed: $(cat "$WORK/err")"
pass "seaway sql: table, csv, exit 1 with the server's message, statements from a pipe"

# Statements are split on ';' outside strings and comments: two on a line, one followed by a
# comment, a ';' inside a multi-line string.
printf "SELECT 1 AS one; SELECT 2 AS two; -- note; not a statement\nSELECT 'x;\ny' AS s;\n" \
  | "$SEAWAY" sql --url "$URL" --token "$TOKEN" >"$WORK/out" 2>"$WORK/err" \
  || fail "split statements: $(cat "$WORK/err")"
grep -q '^ one$' "$WORK/out" && grep -q '^ two$' "$WORK/out" \
  || fail "two statements on a line: $(cat "$WORK/out")"
grep -qF ' x;\ny' "$WORK/out" || fail "';' inside a string: $(cat "$WORK/out")"
[[ $(grep -c '^(1 row' "$WORK/out") == 3 ]] || fail "statement count: $(cat "$WORK/out")"
pass "seaway sql: statements split outside strings and comments"

# Control characters from the data are escaped; NULL and the text 'NULL' differ.
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST "$URL/write?db=main&precision=s" \
  -H "Authorization: Token $TOKEN" \
  --data-binary $'esc,k=a s="\x1b[2J\x1b]0;title\x07 bell",t="NULL" 1767225600\n')
[[ "$code" == 204 ]] || fail "write of control characters gave $code"
"$SEAWAY" sql --url "$URL" --token "$TOKEN" \
  "SELECT s, t, NULL AS n, 'a' AS \"new
line\" FROM esc" >"$WORK/out"
! grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$WORK/out" || fail "raw control bytes: $(cat -v "$WORK/out")"
grep -qF ' \x1B[2J\x1B]0;title\x07 bell | '"'NULL'"' | NULL | a' "$WORK/out" \
  || fail "escaped row: $(cat -v "$WORK/out")"
grep -qF '| new\nline' "$WORK/out" || fail "escaped column name: $(cat -v "$WORK/out")"
pass "seaway sql: control characters escaped, NULL unlike 'NULL'"

# The interactive prompt, driven through a pseudo-terminal: this starts `seaway sql` on one and
# defines read_until(marker); the script that follows types and checks what came out.
cat >"$WORK/pty_prompt.py" <<'PY'
import os, pty, select, sys, time
seaway, url, token, work = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["HOME"] = work
    os.execv(seaway, [seaway, "sql", "--url", url, "--token", token])
out = b""
# Reads until `marker` has come `count` times in all, or `seconds` passed.
def read_until(marker, seconds=10, count=1):
    global out
    end = time.time() + seconds
    while out.count(marker) < count and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return
# The exit status of `seaway sql`, reading what it writes meanwhile; one that has not exited
# within `seconds` is killed and the test fails with what it wrote (a busy machine must not
# hang the test until ctest's timeout).
def wait_exit(seconds=20, give_up=True):
    end = time.time() + seconds
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            read_until(b"\0", 2)  # what is left in the terminal; EIO once it is drained
            return status
        read_until(b"\0", 0.1)
    if not give_up:
        return None
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    raise SystemExit(f"seaway sql did not exit within {seconds} s")
PY

# Ctrl-C at the prompt discards the typed input and the prompt carries on.
cat "$WORK/pty_prompt.py" - <<'PY' | python3 - "$SEAWAY" "$URL" "$TOKEN" "$WORK" >"$WORK/out" 2>&1 \
  || fail "prompt: $(cat "$WORK/out")"
read_until(b"seaway> ")
os.write(fd, b"SELECT 'half")
read_until(b"half")
# readline takes a Ctrl-C that comes while it is still echoing only at the next key: on a busy
# machine the first one can come that early, so a second is sent as a user would.
time.sleep(0.2)
os.write(fd, b"\x03")
read_until(b"seaway> ", 5, count=2)  # a fresh prompt
if out.count(b"seaway> ") < 2:
    os.write(fd, b"\x03")
    read_until(b"seaway> ", count=2)
os.write(fd, b"SELECT 5 AS z;\r")
read_until(b"seaway> ", count=3)  # the answer, then the prompt
os.write(fd, b"\\q\r")
status = wait_exit()
sys.stdout.write(out.decode(errors="replace"))
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"status {status}"
assert b" z\r\n---\r\n 5\r\n" in out, "the statement after Ctrl-C did not run"
PY
pass "seaway sql: Ctrl-C at the prompt clears the input"

# Ctrl-D at the prompt in the middle of a statement quits without running it (as psql); from a
# pipe, the last statement runs without its ';'.
cat "$WORK/pty_prompt.py" - <<'PY' | python3 - "$SEAWAY" "$URL" "$TOKEN" "$WORK" >"$WORK/out" 2>&1 \
  || fail "Ctrl-D: $(cat "$WORK/out")"
read_until(b"seaway> ")
os.write(fd, b"SELECT 6 AS half_typed\r")
read_until(b"-> ")
time.sleep(0.2)
os.write(fd, b"\x04")
status = wait_exit(5, give_up=False)
if status is None:  # not taken (see the Ctrl-C check): a second Ctrl-D
    os.write(fd, b"\x04")
    status = wait_exit()
sys.stdout.write(out.decode(errors="replace"))
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"status {status}"
assert b"unfinished statement not run" in out, "no notice"
assert b"(1 row" not in out, "the unfinished statement ran"
PY
printf 'SELECT 7 AS piped' | "$SEAWAY" sql --url "$URL" --token "$TOKEN" >"$WORK/out" 2>&1 \
  || fail "piped statement without ';': $(cat "$WORK/out")"
grep -q '^ *7$' "$WORK/out" || fail "piped statement without ';' did not run: $(cat "$WORK/out")"
pass "seaway sql: Ctrl-D leaves an unfinished statement; a piped one runs"

metrics=$(curl -sS -H "Authorization: Bearer $TOKEN" "$URL/metrics")
grep -q '^seaway_sql_queries_total{status="ok"} ' <<<"$metrics" || fail "no query counter"
kill -TERM "$PID"
wait "$PID" || fail "server exit status $?"
PID=""
pass "server stopped"

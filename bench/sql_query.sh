#!/usr/bin/env bash
# SQL query latency (issue #5): Seaway beside ClickHouse 18.16 and InfluxDB 1.6, the same rows and
# the same questions, in one run on one machine, every request over HTTP (bench/; results in
# docs/BENCHMARKS.md).
#
#   bench/sql_query.sh [--dataset industrial|cpu-only] [--rows-per-machine N] [--scale N]
#                      [--seed N] [--runs N] [--query NAME]... [--systems seaway,clickhouse,influxdb]
#                      [--set standard|breadth]
#                      [--seaway-as-loaded] [--new-connections] [--wait-quiet SECONDS]
#                      [--client http.client|socket|both] [--build-dir DIR | --no-build] [--keep]
#
# 1. builds seaway_datagen, http_loader and the server (release preset, under
#    `flock /tmp/sqlwt-build.lock`: the build directory is shared) and copies the binaries into
#    the run's directory, so that a rebuild during the run changes nothing; generates the dataset
#    once as line protocol (Seaway, InfluxDB) and TSV (ClickHouse);
# 2. for each system in turn, alone (the others are stopped, not merely idle):
#    Seaway: `seaway serve` on a temporary --data-dir, token SEAWAY_ADMIN_TOKEN (a fixed bench
#      token when unset), loaded with POST /write; then restarted (a clean shutdown flushes its
#      memtables to segments) unless --seaway-as-loaded, and left for its first maintenance
#      round (30 s: partitions no longer written to are compacted), so that it is measured at
#      rest as the peers are; queries: POST /api/v1/sql {"query": ..., "database": "bench"};
#    ClickHouse: MergeTree PARTITION BY day ORDER BY (machine_id, ts) (seaway_datagen's DDL),
#      loaded with TSV, then OPTIMIZE ... FINAL until one part per partition; queries: POST /
#      with FORMAT JSONCompact;
#    InfluxDB: line protocol into database `bench`, then left until its cache snapshot and full
#      compaction are done (bench/peers/influxdb.sh shortens both); queries: /query, epoch=ns;
#    each is loaded with bench/http_loader (5,000-line batches, 2 connections), its row count
#    checked with count(*) (or count(field) in InfluxQL), and its server process waited on
#    until it is idle (< 2% of a core over 1 s) before any query runs;
#    --set breadth measures 34 other questions instead (tag and field filters, DISTINCT,
#      percentiles, subqueries, joins, scalar functions, top-N...), Seaway and ClickHouse only;
# 3. bench/sql_query.py sends each query once to warm up (that answer is kept) and then --runs
#    times (default 15), one request at a time on one keep-alive connection (--new-connections:
#    a new connection per request), and times each request from sending to the last byte of
#    the answer; --client picks how (Python's http.client, the default, or a minimal HTTP/1.1
#    client on a plain socket that spends less of its own time per request; "both": each system
#    is measured with one and then the other, and step 4 reports each);
# 4. compares the answers of the three systems (rows sorted; floats to 6 significant digits;
#    timestamps to ns) and prints per query the median for each system, Seaway/ClickHouse,
#    InfluxDB/Seaway and the issue's targets; exits 1 naming the query and the first differing
#    row when answers differ or a query fails.
# The load average is printed at the start and before each system's measurement, and the CPU
# time that other processes took while each system was measured; the run is quiet when the
# load average was below 1.5 at the start and other processes took under 10% of the CPU during
# every measurement (docs/BENCHMARKS.md takes numbers only from quiet runs). --wait-quiet waits
# (up to SECONDS) for a load average below 1.5 and a CPU under 10% busy before starting.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
peers="$repo/bench/peers"
source "$peers/lib.sh"
helper="$repo/bench/sql_query.py"

dataset=industrial rows_per_machine=720 scale=1000 seed=1 runs=15 batch_rows=5000 connections=2
build_dir="" build=1 keep=0 systems=seaway,clickhouse,influxdb as_loaded=0 wait_quiet=0
run_args=()  # passed on to sql_query.py run
query_set=standard
clients=http.client  # sql_query.py's --client; "both": each system measured with each in turn
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dataset) dataset=$2; shift 2 ;;
    --rows-per-machine) rows_per_machine=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --query) run_args+=(--query "$2"); shift 2 ;;
    --set) query_set=$2; run_args+=(--set "$2"); shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --seaway-as-loaded) as_loaded=1; shift ;;
    --new-connections) run_args+=(--new-connections); shift ;;
    --client) clients=$2; shift 2 ;;
    --wait-quiet) wait_quiet=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set /{/^set /!p}' "$0"; exit 0 ;;
    *) echo "sql_query: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[[ $dataset == industrial || $dataset == cpu-only ]] ||
  { echo "sql_query: --dataset is industrial or cpu-only" >&2; exit 2; }
want() { [[ ",$systems," == *",$1,"* ]]; }
[[ $query_set == standard || $query_set == breadth ]] ||
  { echo "sql_query: --set is standard or breadth" >&2; exit 2; }
if [[ $query_set == breadth ]] && want influxdb; then
  echo "sql_query: the breadth set has no InfluxQL spelling: add --systems seaway,clickhouse" >&2
  exit 2
fi
case $clients in
  both) client_list=(http.client socket) ;;
  http.client|socket) client_list=("$clients") ;;
  *) echo "sql_query: --client is http.client, socket or both" >&2; exit 2 ;;
esac

# --- build -------------------------------------------------------------------------------------
lock=/tmp/sqlwt-build.lock
targets=(seaway_datagen http_loader)
want seaway && targets+=(seaway)
if [[ -z $build_dir ]]; then
  build_dir="$repo/build/release"
  if [[ $build -eq 1 ]]; then
    (cd "$repo" && flock "$lock" cmake --preset release >/dev/null &&
      flock "$lock" cmake --build --preset release --target "${targets[@]}")
  fi
elif [[ $build -eq 1 ]]; then
  flock "$lock" cmake --build "$build_dir" --target "${targets[@]}"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/seaway-sql-query.XXXXXX")
cleanup() {
  [[ -f "$work/seaway.pid" ]] && kill -KILL "$(cat "$work/seaway.pid")" 2>/dev/null
  "$peers/influxdb.sh" stop "$work/influxdb" 2>/dev/null || true
  "$peers/clickhouse.sh" stop "$work/clickhouse" 2>/dev/null || true
  if [[ $keep -eq 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ had uncommitted changes)')"

# Private copies: other engineers rebuild the shared build directory while this runs.
mkdir -p "$work/bin"
flock "$lock" cp "$build_dir/bench/datagen/seaway_datagen" "$build_dir/bench/http_loader" "$work/bin/"
want seaway && flock "$lock" cp "$repo/bin/seaway" "$work/bin/"
datagen="$work/bin/seaway_datagen" loader="$work/bin/http_loader" seaway_server="$work/bin/seaway"

load1() { cut -d' ' -f1 /proc/loadavg; }

# Waits until process PID uses less than 2% of a core over one second, for up to 180 s.
wait_idle() {
  local pid=$1 name=$2 i a b hz
  hz=$(getconf CLK_TCK)
  for ((i = 0; i < 180; i++)); do
    a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 1
    b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    if (((b - a) * 50 < hz)); then
      echo "$name idle after ${i} s"
      return 0
    fi
  done
  echo "sql_query: $name still busy after 180 s; measuring anyway" >&2
}

# Busy share of the machine's CPU over the next 10 s, in percent.
busy_share() {
  local a b
  a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit}' /proc/stat)
  sleep 10
  b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " ");
    printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9)}'
}
for ((waited = 0; waited < wait_quiet; waited += 10)); do
  busy=$(busy_share)
  ((busy < 10)) && awk "BEGIN {exit !($(load1) < 1.5)}" && break
  ((waited % 60 == 0)) && echo "waiting for a quiet machine (CPU ${busy}% busy): $(uptime)"
done

gen_args=(--dataset "$dataset" --scale "$scale" --rows-per-machine "$rows_per_machine" --seed "$seed")
eval "$("$datagen" "${gen_args[@]}" --format info)"  # dataset measurement primary_tag rows fields values
q_args=(--dataset "$dataset" --scale "$scale" --timestamps "$rows_per_machine")

echo "== SQL queries: $dataset, $rows rows x $fields fields; $runs timed runs per query"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "commit:  $commit"
echo "uptime:  $(uptime)"
start_load=$(load1)

echo; echo "-- generating line protocol and TSV (not timed)"
"$datagen" "${gen_args[@]}" --format lp -o "$work/rows.lp"
want clickhouse && "$datagen" "${gen_args[@]}" --format tsv -o "$work/rows.tsv"

results=()
loads=()
# measure SYSTEM PORT PID [TOKEN]: the query set against one loaded, idle system.
measure() {
  local system=$1 port=$2 pid=$3 token=${4:-}
  loads+=("$system $(load1)")
  echo "uptime before measuring $system: $(uptime)"
  local c
  for c in "${client_list[@]}"; do
    [[ ${#client_list[@]} -gt 1 ]] && echo "client: $c"
    mkdir -p "$work/$c"
    python3 "$helper" run "${q_args[@]}" --system "$system" --port "$port" \
      ${token:+--token "$token"} --pid "$pid" --runs "$runs" --client "$c" \
      --out "$work/$c/$system.json" "${run_args[@]}"
  done
  results+=("$system")
}
# check_count SYSTEM PORT [TOKEN]: fails unless the system holds every row (polls for 60 s).
check_count() {
  local system=$1 port=$2 token=${3:-} n i
  for ((i = 0; i < 60; i++)); do
    n=$(python3 "$helper" count "${q_args[@]}" --system "$system" --port "$port" \
      ${token:+--token "$token"} 2>&1) || true
    [[ $n == "$rows" ]] && { echo "rows counted by $system: $n"; return 0; }
    sleep 1
  done
  echo "sql_query: $system holds $n rows, not $rows" >&2
  return 1
}

# --- Seaway ------------------------------------------------------------------------------------
start_seaway() {
  SEAWAY_ADMIN_TOKEN=$token "$seaway_server" serve --data-dir "$work/seaway/data" \
    --http "127.0.0.1:$sw_port" --mqtt "127.0.0.1:$(pick_port 11883)" \
    --storage-shards 2 --log-level warn >>"$work/seaway.log" 2>&1 &
  echo $! >"$work/seaway.pid"
  wait_for_http "http://127.0.0.1:$sw_port/health" "$(cat "$work/seaway.pid")" 60 ||
    { echo "sql_query: seaway serve did not start:" >&2; tail -20 "$work/seaway.log" >&2; exit 1; }
}
if want seaway; then
  echo; echo "-- Seaway"
  token=${SEAWAY_ADMIN_TOKEN:-bench-token-0123456789}
  sw_port=$(pick_port 18080)
  mkdir -p "$work/seaway"
  start_seaway
  "$loader" --port "$sw_port" --path "/write?db=bench&precision=ns&p=$token" \
    --file "$work/rows.lp" --batch-lines "$batch_rows" --connections "$connections"
  echo
  check_count seaway "$sw_port" "$token"
  if [[ $as_loaded -eq 0 ]]; then
    t0=$(date +%s.%N)
    stop_pidfile "$work/seaway.pid" seaway
    start_seaway
    echo "restarted (clean shutdown flushes memtables) in $(awk "BEGIN {print $(date +%s.%N) - $t0}") s"
    check_count seaway "$sw_port" "$token"
    # At rest as the peers are brought to rest (OPTIMIZE FINAL, a full compaction): the first
    # periodic maintenance (every 30 s) compacts partitions that are no longer written to.
    sleep 32
  fi
  wait_idle "$(cat "$work/seaway.pid")" seaway
  measure seaway "$sw_port" "$(cat "$work/seaway.pid")" "$token"
  stop_pidfile "$work/seaway.pid" seaway
fi

# --- ClickHouse --------------------------------------------------------------------------------
if want clickhouse; then
  echo; echo "-- ClickHouse"
  ch_dir="$work/clickhouse"
  ch() { "$peers/clickhouse.sh" query "$ch_dir" "$1"; }
  CH_HTTP_PORT=$(pick_port 8123) CH_TCP_PORT=$(pick_port 19000) \
    CH_INTERSERVER_PORT=$(pick_port 19009) "$peers/clickhouse.sh" start "$ch_dir"
  port=$("$peers/clickhouse.sh" port "$ch_dir")
  ch "$("$datagen" "${gen_args[@]}" --format clickhouse-ddl --database bench)"
  "$loader" --port "$port" \
    --path "/?query=INSERT%20INTO%20bench.$measurement%20FORMAT%20TabSeparated" \
    --file "$work/rows.tsv" --batch-lines "$batch_rows" --connections "$connections"
  echo
  # OPTIMIZE ... FINAL skips parts a background merge holds: wait for merges, repeat until one
  # part per partition remains (as bench/storage_ingest.sh does).
  for ((attempt = 1; attempt <= 10; attempt++)); do
    for ((i = 0; i < 240; i++)); do
      [[ $(ch "SELECT count() FROM system.merges WHERE database = 'bench'") == 0 ]] && break
      sleep 0.5
    done
    ch "OPTIMIZE TABLE bench.$measurement FINAL"
    partitions=$(ch "SELECT uniqExact(partition) FROM system.parts WHERE active AND database = 'bench'")
    parts=$(ch "SELECT count() FROM system.parts WHERE active AND database = 'bench'")
    ((parts == partitions)) && break
  done
  echo "after OPTIMIZE FINAL: $parts active part(s)"
  check_count clickhouse "$port"
  wait_idle "$(cat "$ch_dir/clickhouse.pid")" clickhouse
  measure clickhouse "$port" "$(cat "$ch_dir/clickhouse.pid")"
  "$peers/clickhouse.sh" stop "$ch_dir"
fi

# --- InfluxDB ----------------------------------------------------------------------------------
if want influxdb; then
  echo; echo "-- InfluxDB"
  influx_dir="$work/influxdb"
  INFLUX_HTTP_PORT=$(pick_port 8086) INFLUX_RPC_PORT=$(pick_port 18088) \
    "$peers/influxdb.sh" start "$influx_dir"
  port=$("$peers/influxdb.sh" port "$influx_dir")
  "$loader" --port "$port" --path "/write?db=bench&precision=ns" --file "$work/rows.lp" \
    --batch-lines "$batch_rows" --connections "$connections"
  echo
  check_count influxdb "$port"
  # At rest: WAL empty and one TSM file per shard, nothing being compacted (up to 120 s).
  shards=$(find "$influx_dir/data/bench" -mindepth 2 -maxdepth 2 -type d ! -path '*/_series/*' | wc -l)
  for ((waited = 0; waited < 120; waited += 5)); do
    read -r _ _ wal tsm tmp < <("$peers/influxdb.sh" size "$influx_dir")
    ((wal < 65536 && tsm == shards && tmp == 0)) && break
    sleep 5
  done
  echo "InfluxDB at rest after ${waited} s: $tsm TSM file(s) for $shards shard(s), WAL $wal bytes"
  wait_idle "$(cat "$influx_dir/influxd.pid")" influxdb
  measure influxdb "$port" "$(cat "$influx_dir/influxd.pid")"
  "$peers/influxdb.sh" stop "$influx_dir"
fi

# --- report ------------------------------------------------------------------------------------
echo
echo "== $dataset: $rows rows; medians of $runs requests after one warm-up, each system alone"
echo "commit:  $commit$([[ $build -eq 1 ]] && echo ' (at the build)' || echo ' (--no-build: binaries as found)')"
echo "uptime:  $(uptime)"
echo "load average (1 min) at the start: $start_load; before each measurement: ${loads[*]}"
echo
status=0
for c in "${client_list[@]}"; do
  [[ ${#client_list[@]} -gt 1 ]] && { echo; echo "-- client: $c"; }
  files=()
  for system in "${results[@]}"; do files+=("$work/$c/$system.json"); done
  python3 "$helper" report --start-load "$start_load" "${files[@]}" || status=1
done
exit $status

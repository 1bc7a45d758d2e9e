#!/usr/bin/env bash
# Storage ingest and on-disk size, Seaway beside InfluxDB 1.6 and ClickHouse 18.16, in one run on
# one machine with one dataset (bench/; results in docs/BENCHMARKS.md).
#
#   bench/storage_ingest.sh [--dataset industrial|cpu-only] [--rows-per-machine N] [--scale N]
#                           [--seed N] [--batch-rows N] [--connections N] [--via engine|http]
#                           [--build-dir DIR | --no-build] [--keep]
#
# --via engine (the default, issue #3) measures Seaway's storage engine through its batch API;
# --via http (issue #4) measures the whole server: `seaway serve` loaded with the same line
# protocol file as InfluxDB, by the same loader, over the same connections (POST /write).
#
# 1. builds seaway_datagen, http_loader and storage_ingest_bench (release preset) and generates
#    the dataset once as line protocol (InfluxDB) and TSV (ClickHouse); Seaway regenerates the
#    same rows in memory from the same generator library;
#    Seaway (--via http): bin/seaway serve (WAL sync always, 2 shards), loaded like InfluxDB; rows
#    checked against its ingest counter; size of its storage directory after a clean shutdown;
# 2. Seaway (--via engine): storage_ingest_bench writes 5,000-row WriteBatches from 2 threads into a new engine
#    (WAL sync always, 2 shards, other options at their defaults) and measures the engine
#    directory after Close, which flushes memtables to segments; the ingest clock stops when the
#    last write is acknowledged durable, as the peers' clock stops at their last acknowledgement;
# 3. InfluxDB: line protocol over HTTP, 5,000-line batches on 2 keep-alive connections; size of
#    data+wal of database `bench` right after the load and again at rest (after its cache
#    snapshot and full compaction; see bench/peers/influxdb.sh);
# 4. ClickHouse: TSV over HTTP (INSERT ... FORMAT TabSeparated), same batches and connections;
#    size from system.parts (active) before and after OPTIMIZE TABLE ... FINAL;
# 5. prints one table with the ratios Seaway/peer for ingest and peer/Seaway for size.
# Each system runs alone (the others stopped) so that none takes CPU from another.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
peers="$repo/bench/peers"
source "$peers/lib.sh"

dataset=industrial rows_per_machine=720 scale=1000 seed=1 batch_rows=5000 connections=2
build_dir="" build=1 keep=0 via=engine
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dataset) dataset=$2; shift 2 ;;
    --rows-per-machine) rows_per_machine=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --batch-rows) batch_rows=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    --via) via=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "storage_ingest: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[[ $dataset == industrial || $dataset == cpu-only ]] ||
  { echo "storage_ingest: --dataset is industrial or cpu-only" >&2; exit 2; }
[[ $via == engine || $via == http ]] || { echo "storage_ingest: --via is engine or http" >&2; exit 2; }

# --- build -------------------------------------------------------------------------------------
targets=(seaway_datagen http_loader storage_ingest_bench seaway)
if [[ -z $build_dir ]]; then
  build_dir="$repo/build/release"
  if [[ $build -eq 1 ]]; then
    (cd "$repo" && cmake --preset release >/dev/null && cmake --build --preset release --target "${targets[@]}")
  fi
elif [[ $build -eq 1 ]]; then
  cmake --build "$build_dir" --target "${targets[@]}"
fi
datagen="$build_dir/bench/datagen/seaway_datagen"
loader="$build_dir/bench/http_loader"
seaway_bench="$build_dir/bench/storage_ingest_bench"
seaway_server="$repo/bin/seaway"
for b in "$datagen" "$loader" "$seaway_bench" "$seaway_server"; do
  [[ -x $b ]] || { echo "storage_ingest: $b is missing (build it, or drop --no-build)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/seaway-storage-ingest.XXXXXX")
cleanup() {
  [[ -f "$work/seaway.pid" ]] && kill -KILL "$(cat "$work/seaway.pid")" 2>/dev/null
  "$peers/influxdb.sh" stop "$work/influxdb" 2>/dev/null || true
  "$peers/clickhouse.sh" stop "$work/clickhouse" 2>/dev/null || true
  if [[ $keep -eq 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# awk arithmetic: calc 'expression'
calc() { awk "BEGIN { printf \"%s\", $1 }"; }

gen_args=(--dataset "$dataset" --scale "$scale" --rows-per-machine "$rows_per_machine" --seed "$seed")
eval "$("$datagen" "${gen_args[@]}" --format info)"  # dataset measurement primary_tag rows fields values

echo "== Storage ingest and size: $dataset, $rows rows x $fields fields = $values values"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "commit:  $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ has uncommitted changes)')"
echo "uptime:  $(uptime)"
echo "load:    batches of $batch_rows rows, $connections connections/threads; seed $seed; Seaway via $via"

echo; echo "-- generating line protocol and TSV (not timed)"
"$datagen" "${gen_args[@]}" --format lp -o "$work/rows.lp"
"$datagen" "${gen_args[@]}" --format tsv -o "$work/rows.tsv"
echo "rows.lp $(stat -c %s "$work/rows.lp") bytes, rows.tsv $(stat -c %s "$work/rows.tsv") bytes"

# Results: name|rows|seconds|bytes|note ; ingest columns empty for size-only rows.
results=()

# --- Seaway --------------------------------------------------------------------------------------
echo; echo "-- Seaway (via $via)"
if [[ $via == engine ]]; then
  if ! "$seaway_bench" "${gen_args[@]}" --batch-rows "$batch_rows" --threads "$connections" \
    --shards 2 --wal-sync always --dir "$work/seaway/engine" >"$work/seaway.out" 2>"$work/seaway.log"; then
    cat "$work/seaway.out"
    echo "storage_ingest: storage_ingest_bench failed:" >&2
    tail -20 "$work/seaway.log" >&2
    exit 1
  fi
  cat "$work/seaway.out"
  eval "$(grep '^RESULT ' "$work/seaway.out" | sed 's/^RESULT //; s/\([a-z_]*\)=/sw_\1=/g')"
  sw_note="engine API, WAL sync always; size after Close ($sw_close_seconds s)"
  if [[ $sw_storage == wal-only ]]; then
    sw_note="$sw_note: WAL only (segments pending)"
  else
    sw_note="$sw_note: segments $sw_segment_bytes B, WAL $sw_wal_bytes B"
  fi
  results+=("Seaway|$rows|$sw_seconds|$sw_bytes|$sw_note")
  results+=("Seaway write + Close (flush)|$rows|$(calc "$sw_seconds + $sw_close_seconds")|$sw_bytes|clock stops after Close has flushed every memtable")
else
  sw_port=$(pick_port 18080)
  mkdir -p "$work/seaway"
  SEAWAY_ADMIN_TOKEN=bench-token-0123456789 "$seaway_server" serve --data-dir "$work/seaway/data" \
    --http "127.0.0.1:$sw_port" --mqtt "127.0.0.1:$(pick_port 11883)" --wal-sync always \
    --storage-shards 2 --log-level warn >"$work/seaway.log" 2>&1 &
  echo $! >"$work/seaway.pid"
  wait_for_http "http://127.0.0.1:$sw_port/health" "$(cat "$work/seaway.pid")" 30 ||
    { echo "storage_ingest: seaway serve did not start:" >&2; tail -20 "$work/seaway.log" >&2; exit 1; }
  out=$("$loader" --port "$sw_port" --path "/write?db=bench&precision=ns&p=bench-token-0123456789" \
    --file "$work/rows.lp" --batch-lines "$batch_rows" --connections "$connections")
  echo "$out"
  sw_seconds=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out")
  stored=$(curl -s -H "Authorization: Bearer bench-token-0123456789" "http://127.0.0.1:$sw_port/metrics" |
    awk '/^seaway_ingest_lines_total/ {n += $NF} END {printf "%d", n}')
  echo "rows counted by Seaway (seaway_ingest_lines_total): $stored"
  [[ $stored == "$rows" ]] || { echo "storage_ingest: Seaway stored $stored of $rows rows" >&2; exit 1; }
  t0=$(date +%s.%N)
  stop_pidfile "$work/seaway.pid" seaway
  sw_close_seconds=$(calc "$(date +%s.%N) - $t0")
  sw_bytes=$(du -sB1 "$work/seaway/data/storage" | cut -f1)
  echo "storage after clean shutdown (${sw_close_seconds} s): $sw_bytes bytes"
  results+=("Seaway $(git -C "$repo" rev-parse --short HEAD 2>/dev/null) via HTTP|$rows|$sw_seconds|$sw_bytes|POST /write line protocol, WAL sync always; size after shutdown")
fi

# --- InfluxDB ------------------------------------------------------------------------------------
echo; echo "-- InfluxDB"
influx_dir="$work/influxdb"
if INFLUX_HTTP_PORT=$(pick_port 8086) INFLUX_RPC_PORT=$(pick_port 18088) \
  "$peers/influxdb.sh" start "$influx_dir"; then
  port=$("$peers/influxdb.sh" port "$influx_dir")
  out=$("$loader" --port "$port" --path "/write?db=bench&precision=ns" --file "$work/rows.lp" \
    --batch-lines "$batch_rows" --connections "$connections")
  echo "$out"
  ifx_seconds=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out")
  read -r ifx_loaded ifx_data ifx_wal ifx_tsm _ < <("$peers/influxdb.sh" size "$influx_dir")
  echo "right after the load: $ifx_loaded bytes (data $ifx_data in $ifx_tsm TSM files, wal $ifx_wal)"
  # At rest: InfluxDB snapshots its cache 5 s and fully compacts 15 s after the last write (see
  # bench/peers/influxdb.sh). Poll every 5 s, for 120 s at most, until the WAL is empty and one
  # TSM file per shard remains with no compaction output (*.tmp) being written.
  shards=$(find "$influx_dir/data/bench" -mindepth 2 -maxdepth 2 -type d ! -path '*/_series/*' | wc -l)
  waited=0
  while ((waited < 120)); do
    sleep 5
    waited=$((waited + 5))
    read -r total data wal tsm tmp < <("$peers/influxdb.sh" size "$influx_dir")
    ((wal < 65536 && tsm == shards && tmp == 0)) && break
  done
  rest_note="cache snapshot + full compaction"
  ((wal < 65536 && tsm == shards && tmp == 0)) || rest_note="still compacting after 120 s"
  echo "at rest after ${waited} s: $total bytes (data $data in $tsm TSM files, wal $wal); files (apparent sizes):"
  find "$influx_dir/data/bench" "$influx_dir/wal/bench" -type f -printf '  %P %s\n' | sort
  count=$(curl -s "http://127.0.0.1:$port/query" --data-urlencode db=bench \
    --data-urlencode "q=SELECT count(*) FROM $measurement" | grep -o '"values":\[\[[^]]*' | awk -F, '{print $NF}')
  echo "rows counted by InfluxDB: $count"
  results+=("InfluxDB $(influxd version 2>/dev/null | awk '{print $2}') as loaded|$rows|$ifx_seconds|$ifx_loaded|HTTP line protocol; fsync per write")
  results+=("InfluxDB at rest (+${waited} s)|||$total|$rest_note")
  "$peers/influxdb.sh" stop "$influx_dir"
else
  results+=("InfluxDB|||-|did not start: see $influx_dir/influxd.log")
fi

# --- ClickHouse ----------------------------------------------------------------------------------
echo; echo "-- ClickHouse"
ch_dir="$work/clickhouse"
ch() { "$peers/clickhouse.sh" query "$ch_dir" "$1"; }
if CH_HTTP_PORT=$(pick_port 8123) CH_TCP_PORT=$(pick_port 19000) \
  CH_INTERSERVER_PORT=$(pick_port 19009) "$peers/clickhouse.sh" start "$ch_dir"; then
  port=$("$peers/clickhouse.sh" port "$ch_dir")
  ch "$("$datagen" "${gen_args[@]}" --format clickhouse-ddl --database bench)"
  out=$("$loader" --port "$port" \
    --path "/?query=INSERT%20INTO%20bench.$measurement%20FORMAT%20TabSeparated" \
    --file "$work/rows.tsv" --batch-lines "$batch_rows" --connections "$connections")
  echo "$out"
  ch_seconds=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out")
  read -r ch_before ch_parts_before ch_rows < <("$peers/clickhouse.sh" size "$ch_dir")
  echo "before OPTIMIZE: $ch_before bytes in $ch_parts_before active parts, $ch_rows rows"
  # OPTIMIZE ... FINAL skips parts that a background merge holds, and then leaves several parts:
  # wait for merges to end and repeat until one part per partition remains.
  t0=$(date +%s.%N)
  for ((attempt = 1; attempt <= 10; attempt++)); do
    for ((i = 0; i < 240; i++)); do
      [[ $(ch "SELECT count() FROM system.merges WHERE database = 'bench'") == 0 ]] && break
      sleep 0.5
    done
    ch "OPTIMIZE TABLE bench.$measurement FINAL"
    partitions=$(ch "SELECT uniqExact(partition) FROM system.parts WHERE active AND database = 'bench'")
    read -r ch_after ch_parts_after ch_rows < <("$peers/clickhouse.sh" size "$ch_dir")
    ((ch_parts_after == partitions)) && break
  done
  echo "after OPTIMIZE FINAL ($attempt attempt(s), $(calc "$(date +%s.%N) - $t0") s): $ch_after bytes in $ch_parts_after active parts, $ch_rows rows"
  results+=("ClickHouse $(ch 'SELECT version()') before OPTIMIZE|$rows|$ch_seconds|$ch_before|HTTP TSV; MergeTree, $ch_parts_before parts")
  results+=("ClickHouse after OPTIMIZE FINAL|||$ch_after|$ch_parts_after part(s), LZ4")
  "$peers/clickhouse.sh" stop "$ch_dir"
else
  results+=("ClickHouse|||-|did not start: see $ch_dir/log")
fi

# --- table ---------------------------------------------------------------------------------------
echo
echo "== $dataset: $rows rows, $values values ($fields fields), seed $seed, batches of $batch_rows, $connections writers"
echo "uptime:  $(uptime)"
fmt="| %-34s | %9s | %7s | %10s | %11s | %11s | %7s | %9s | %9s | %s\n"
printf "$fmt" system rows seconds rows/s values/s "bytes disk" B/value "ingest SW/peer" "size peer/SW" notes
printf "$fmt" "---" "---:" "---:" "---:" "---:" "---:" "---:" "---:" "---:" "---"
sw_rate=$(calc "$rows / $sw_seconds")
for r in "${results[@]}"; do
  IFS='|' read -r name nrows secs bytes note <<<"$r"
  rate="" vrate="" bpv="" ingest_ratio="" size_ratio=""
  if [[ -n $secs ]]; then
    rate=$(calc "sprintf(\"%.0f\", $nrows / $secs)")
    vrate=$(calc "sprintf(\"%.0f\", $nrows * $fields / $secs)")
    [[ $name != Seaway* ]] && ingest_ratio=$(calc "sprintf(\"%.2f\", $sw_rate / ($nrows / $secs))")
  fi
  if [[ $bytes =~ ^[0-9]+$ ]]; then
    bpv=$(calc "sprintf(\"%.2f\", $bytes / $values)")
    [[ $name != Seaway* ]] && size_ratio=$(calc "sprintf(\"%.2f\", $bytes / $sw_bytes)")
  fi
  printf "$fmt" "$name" "$nrows" "$secs" "$rate" "$vrate" "$bytes" "$bpv" "$ingest_ratio" \
    "$size_ratio" "$note"
done
echo
echo "ingest SW/peer > 1: Seaway ingests faster. size peer/SW > 1: the peer needs more disk."
if [[ $via == engine ]]; then
  echo "Seaway's clock covers Engine::Write only (no HTTP, no text parsing); the peers' covers HTTP"
  echo "requests carrying text they parse."
else
  echo "Every clock covers HTTP requests carrying text the server parses (TSV for ClickHouse)."
fi
echo "Bytes: allocated blocks (du -B1) for Seaway and InfluxDB, bytes_on_disk of active parts for ClickHouse."

#!/usr/bin/env bash
# InfluxDB 1.6 (Debian's `influxdb`) for side-by-side benchmarks (bench/peers, see
# ../shared/PEERS.md): data, WAL, meta and log under DIR, HTTP on loopback only.
#
#   bench/peers/influxdb.sh start DIR   install if missing, start, create database `bench`
#   bench/peers/influxdb.sh stop DIR    stop the influxd this script started (by its PID)
#   bench/peers/influxdb.sh size DIR    bytes of database `bench` on disk, as allocated blocks
#                                       (du -B1): "total data wal tsm_files tmp_files"
#   bench/peers/influxdb.sh port DIR    the HTTP port
#
# Ports: INFLUX_HTTP_PORT (default 8086) and INFLUX_RPC_PORT (default 8088).
# Defaults kept: WAL fsync before each acknowledgement (wal-fsync-delay 0s), inmem index.
# Changed for a benchmark: the _internal monitor store is off (it would write into the data we
# measure), and the cold durations after which InfluxDB snapshots its cache and fully compacts a
# shard are 5 s and 15 s instead of 10 min and 4 h, so that the size "at rest" can be measured
# within the run. Writes in progress are unaffected: both only apply to a shard with no writes.
# Sizes are allocated blocks, not apparent sizes: InfluxDB preallocates its series file
# (data/bench/_series, 8 x 4 MiB) sparsely, and those holes take no disk.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

usage() { echo "usage: $0 start|stop|size|port DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

start() {
  ensure_installed influxd influxdb influxdb-client
  local http_port=${INFLUX_HTTP_PORT:-8086} rpc_port=${INFLUX_RPC_PORT:-8088}
  require_free_ports "$http_port" "$rpc_port"
  [[ -f "$dir/influxd.pid" ]] && { echo "influxdb: $dir/influxd.pid exists; stop it first" >&2; exit 1; }
  mkdir -p "$dir/meta" "$dir/data" "$dir/wal"
  influxd config 2>/dev/null | sed \
    -e "s|^bind-address = .*|bind-address = \"127.0.0.1:$rpc_port\"|" \
    -e "s|^  dir = \"/var/lib/influxdb/meta\"|  dir = \"$dir/meta\"|" \
    -e "s|^  dir = \"/var/lib/influxdb/data\"|  dir = \"$dir/data\"|" \
    -e "s|^  wal-dir = .*|  wal-dir = \"$dir/wal\"|" \
    -e "s|^  store-enabled = true|  store-enabled = false|" \
    -e "s|^  cache-snapshot-write-cold-duration = .*|  cache-snapshot-write-cold-duration = \"5s\"|" \
    -e "s|^  compact-full-write-cold-duration = .*|  compact-full-write-cold-duration = \"15s\"|" \
    -e "s|^  bind-address = \":8086\"|  bind-address = \"127.0.0.1:$http_port\"|" \
    >"$dir/influx.conf"
  grep -q "127.0.0.1:$http_port" "$dir/influx.conf" ||
    { echo "influxdb: could not set the HTTP address in $dir/influx.conf" >&2; exit 1; }
  echo "$http_port" >"$dir/http_port"
  nohup influxd -config "$dir/influx.conf" </dev/null >"$dir/influxd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/influxd.pid"
  if ! wait_for_http "http://127.0.0.1:$http_port/ping" "$pid" 60; then
    echo "influxdb: influxd did not answer on port $http_port; last log lines:" >&2
    tail -20 "$dir/influxd.log" >&2
    stop_pidfile "$dir/influxd.pid" influxd
    exit 1
  fi
  curl -sf -XPOST "http://127.0.0.1:$http_port/query" --data-urlencode 'q=CREATE DATABASE bench' \
    >/dev/null
  echo "influxdb: influxd $(influxd version 2>/dev/null | awk '{print $2}') pid $pid on 127.0.0.1:$http_port, data in $dir" >&2
}

size() {
  local data=0 wal=0 tsm=0 tmp=0
  if [[ -d "$dir/data/bench" ]]; then
    data=$(du -sB1 "$dir/data/bench" | cut -f1)
    tsm=$(find "$dir/data/bench" -name '*.tsm' | wc -l)
    tmp=$(find "$dir/data/bench" -name '*.tmp' | wc -l)
  fi
  [[ -d "$dir/wal/bench" ]] && wal=$(du -sB1 "$dir/wal/bench" | cut -f1)
  echo "$((data + wal)) $data $wal $tsm $tmp"
}

case "$cmd" in
  start) start ;;
  stop) stop_pidfile "$dir/influxd.pid" influxd ;;
  size) size ;;
  port) cat "$dir/http_port" ;;
  *) usage ;;
esac

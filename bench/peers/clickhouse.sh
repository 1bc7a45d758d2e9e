#!/usr/bin/env bash
# ClickHouse 18.16 (Debian's `clickhouse-server`) for side-by-side benchmarks (bench/peers, see
# ../shared/PEERS.md): the packaged config copied under DIR with every path pointing into DIR,
# listening on 127.0.0.1 only, time zone UTC (so that TSV DateTime text means UTC).
#
#   bench/peers/clickhouse.sh start DIR   install if missing, start, create database `bench`
#   bench/peers/clickhouse.sh stop DIR    stop the clickhouse-server this script started (PID)
#   bench/peers/clickhouse.sh size DIR    bytes of active parts of database `bench` from
#                                         system.parts: "bytes_on_disk parts rows"
#   bench/peers/clickhouse.sh query DIR SQL   run SQL over HTTP, print the result
#   bench/peers/clickhouse.sh port DIR    the HTTP port
#
# Ports: CH_HTTP_PORT (default 8123), CH_TCP_PORT (9000), CH_INTERSERVER_PORT (9009).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

usage() { echo "usage: $0 start|stop|size|port DIR | query DIR SQL" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

query() {
  curl -sS --fail-with-body "http://127.0.0.1:$(cat "$dir/http_port")/" --data-binary "$1"
}

start() {
  ensure_installed clickhouse-server clickhouse-server clickhouse-client
  local http_port=${CH_HTTP_PORT:-8123} tcp_port=${CH_TCP_PORT:-9000}
  local interserver_port=${CH_INTERSERVER_PORT:-9009}
  require_free_ports "$http_port" "$tcp_port" "$interserver_port"
  [[ -f "$dir/clickhouse.pid" ]] && { echo "clickhouse: $dir/clickhouse.pid exists; stop it first" >&2; exit 1; }
  mkdir -p "$dir/etc" "$dir/data" "$dir/log"
  cp -r /etc/clickhouse-server/. "$dir/etc/"
  sed -i \
    -e "s|/var/lib/clickhouse/|$dir/data/|g" \
    -e "s|/var/log/clickhouse-server/|$dir/log/|g" \
    -e "s|<http_port>8123</http_port>|<http_port>$http_port</http_port>|" \
    -e "s|<tcp_port>9000</tcp_port>|<tcp_port>$tcp_port</tcp_port>|" \
    -e "s|<interserver_http_port>9009</interserver_http_port>|<interserver_http_port>$interserver_port</interserver_http_port>|" \
    -e "s|<!-- <timezone>Europe/Moscow</timezone> -->|<timezone>UTC</timezone>|" \
    -e "s|<yandex>|<yandex>\n    <listen_host>127.0.0.1</listen_host>|" \
    "$dir/etc/config.xml"
  if ! grep -q "<http_port>$http_port</http_port>" "$dir/etc/config.xml" ||
    ! grep -q "<timezone>UTC</timezone>" "$dir/etc/config.xml" ||
    grep -q "/var/lib/clickhouse" "$dir/etc/config.xml"; then
    echo "clickhouse: could not rewrite $dir/etc/config.xml" >&2
    exit 1
  fi
  echo "$http_port" >"$dir/http_port"
  nohup clickhouse-server --config-file="$dir/etc/config.xml" </dev/null \
    >"$dir/log/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/clickhouse.pid"
  if ! wait_for_http "http://127.0.0.1:$http_port/ping" "$pid" 60; then
    echo "clickhouse: server did not answer on port $http_port; last log lines:" >&2
    tail -20 "$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log" >&2 || true
    stop_pidfile "$dir/clickhouse.pid" clickhouse-server
    exit 1
  fi
  query 'CREATE DATABASE IF NOT EXISTS bench' >/dev/null
  echo "clickhouse: server $(query 'SELECT version()') pid $pid on 127.0.0.1:$http_port, data in $dir" >&2
}

case "$cmd" in
  start) start ;;
  stop) stop_pidfile "$dir/clickhouse.pid" clickhouse-server ;;
  size)
    query "SELECT sum(bytes_on_disk), count(), sum(rows) FROM system.parts
           WHERE active AND database = 'bench' FORMAT TSV" | tr '\t' ' '
    ;;
  query) [[ $# -eq 3 ]] || usage; query "$3" ;;
  port) cat "$dir/http_port" ;;
  *) usage ;;
esac

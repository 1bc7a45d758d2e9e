#!/usr/bin/env bash
# MQTT broker (issue #6): Seaway's embedded broker beside Mosquitto 2.0, the same load from the
# same tool (bench/mqtt_bench.cc) with the same parameters, in one run on one machine.
#
#   bench/mqtt.sh [--scenario fanin|fanout0|fanout1|idle|all] [--duration S] [--warmup S]
#                 [--publishers N] [--subscribers N] [--connections N] [--window N]
#                 [--threads N] [--version 5|3.1.1] [--seaway-args "ARGS"]
#                 [--build-dir DIR | --no-build] [--keep]
#
# Targets (issue #6):
#   fanin    QoS 1, 1,000 publishers -> storage: Seaway's PUBACKs/s (line protocol to write/bench,
#            each PUBACK once stored durably) >= 2x Mosquitto's PUBACKs/s for the same publishes
#            routed to one subscriber (Seaway gets the same subscriber: same work plus storage);
#            then Seaway again at half its measured rate: p99 publish->PUBACK <= 10 ms; and
#            (not a target) both paced at half of Mosquitto's rate, like for like.
#   fanout0  1 publisher -> 1,000 subscribers at QoS 0: delivered msg/s >= 2x Mosquitto's.
#   fanout1  the same at QoS 1.
#   idle     10,000 idle connections (keepalive 300 s): broker VmRSS < 150 MB.
#
# 1. builds mqtt_bench and seaway (release preset, -j1 under flock /tmp/seaway-release.lock: the
#    build directory is shared) and copies both binaries into the run's directory;
# 2. per scenario, each broker runs alone and fresh (started before and stopped after its run,
#    by the PID this script started): Mosquitto (/usr/sbin/mosquitto, a config in the run's
#    directory: loopback listener on a free port, allow_anonymous, unlimited in-flight and queued
#    messages so that nothing is dropped, no persistence, TCP_NODELAY like Seaway) and then
#    `seaway serve` (new --data-dir, free ports, --log-level warn, the no-drop limits Mosquitto
#    gets here: --mqtt-max-inflight 65535 --mqtt-max-queued 10000000; the defaults otherwise:
#    WAL sync always); the tool authenticates to Seaway with the admin token as password;
#    --seaway-args adds flags to `seaway serve`;
# 3. prints each run's output and one table: Seaway, Mosquitto, Seaway/Mosquitto and the target.
# The tool uses --threads client loop threads (default 1): broker and tool share the machine's
# cores for both brokers alike; the tool reports its own CPU, the broker's and other processes'
# (the machine is shared), and "SATURATED" when the tool itself was the limit.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/bench/peers/lib.sh"

scenario=all duration=10 warmup=3 publishers=1000 subscribers=1000 connections=10000 window=""
threads=1 version=5 build_dir="" build=1 keep=0 seaway_args=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenario) scenario=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --publishers) publishers=$2; shift 2 ;;
    --subscribers) subscribers=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --seaway-args) seaway_args=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "mqtt: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
case $scenario in
  all) scenarios=(fanin fanout0 fanout1 idle) ;;
  fanin|fanout0|fanout1|idle) scenarios=("$scenario") ;;
  *) echo "mqtt: --scenario is fanin, fanout0, fanout1, idle or all" >&2; exit 2 ;;
esac

# --- build -------------------------------------------------------------------------------------
if [[ -z $build_dir ]]; then
  build_dir="$repo/build/release"
  if [[ $build -eq 1 ]]; then
    (cd "$repo" && flock /tmp/seaway-release.lock cmake --build --preset release -j1 \
      --target mqtt_bench seaway)
  fi
elif [[ $build -eq 1 ]]; then
  flock /tmp/seaway-release.lock cmake --build "$build_dir" -j1 --target mqtt_bench seaway
fi
mosquitto=/usr/sbin/mosquitto
[[ -x $mosquitto ]] || ensure_installed mosquitto mosquitto
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
for b in "$build_dir/bench/mqtt_bench" "$repo/bin/seaway" "$mosquitto"; do
  [[ -x $b ]] || { echo "mqtt: $b is missing (build it, or drop --no-build)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/seaway-mqtt.XXXXXX")
chmod 755 "$work"  # Mosquitto drops root privileges to user mosquitto
cp "$build_dir/bench/mqtt_bench" "$repo/bin/seaway" "$work/"
bench="$work/mqtt_bench"
seaway="$work/seaway"
token=${SEAWAY_ADMIN_TOKEN:-bench-token-0123456789}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 10,000 connections on each side

stop_servers() {
  stop_pidfile "$work/mosquitto.pid" mosquitto 2>/dev/null || true
  stop_pidfile "$work/seaway.pid" seaway 2>/dev/null || true
}
cleanup() {
  stop_servers
  if [[ $keep -eq 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits until something listens on PORT; fails if PID exits or after 30 s.
wait_for_port() {
  local port=$1 pid=$2 i
  for ((i = 0; i < 150; i++)); do
    port_is_free "$port" || return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# Starts a fresh Mosquitto; sets `port` and `pid`.
start_mosquitto() {
  port=$(pick_port 18830)
  mkdir -p "$work/mosquitto"
  cat >"$work/mosquitto/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
# Nothing dropped, nothing written: 0 means unlimited.
max_inflight_messages 0
max_queued_messages 0
max_queued_bytes 0
persistence false
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
EOF
  "$mosquitto" -c "$work/mosquitto/mosquitto.conf" >>"$work/mosquitto/mosquitto.log" 2>&1 &
  pid=$!
  echo "$pid" >"$work/mosquitto.pid"
  wait_for_port "$port" "$pid" ||
    { echo "mqtt: mosquitto did not start:" >&2; tail -20 "$work/mosquitto/mosquitto.log" >&2; exit 1; }
  auth=()
}

# Starts a fresh `seaway serve`; sets `port`, `pid` and `auth`.
start_seaway() {
  port=$(pick_port 18831)
  local http
  http=$(pick_port 18090)
  rm -rf "$work/seaway-data"
  # shellcheck disable=SC2086  # seaway_args: several flags
  SEAWAY_ADMIN_TOKEN=$token "$seaway" serve --data-dir "$work/seaway-data" \
    --http "127.0.0.1:$http" --mqtt "127.0.0.1:$port" --log-level warn \
    --mqtt-max-inflight 65535 --mqtt-max-queued 10000000 $seaway_args >>"$work/seaway.log" 2>&1 &
  pid=$!
  echo "$pid" >"$work/seaway.pid"
  wait_for_http "http://127.0.0.1:$http/health" "$pid" 30 && wait_for_port "$port" "$pid" ||
    { echo "mqtt: seaway serve did not start:" >&2; tail -20 "$work/seaway.log" >&2; exit 1; }
  auth=(--password "$token")
}

# run NAME BROKER ARGS...: runs mqtt_bench against a fresh BROKER (mosquitto|seaway), prints its
# output and keeps the JSON summary in $work/NAME.json.
run() {
  local name=$1 broker=$2
  shift 2
  "start_$broker"
  echo
  echo "-- $name against $broker (pid $pid, port $port); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  local rc=0
  "$bench" "$@" --port "$port" "${auth[@]}" --pid "$pid" --label "$broker" --threads "$threads" \
    --version "$version" >"$work/$name.out" 2>&1 || rc=$?
  grep -v '^JSON ' "$work/$name.out" || true
  grep '^JSON ' "$work/$name.out" | tail -1 | sed 's/^JSON //' >"$work/$name.json" || true
  kill -0 "$pid" 2>/dev/null || echo "BROKER DIED: $broker (pid $pid) is gone after $name" >&2
  [[ -s $work/$name.json ]] || echo "mqtt: $name failed (exit $rc)" >&2
  if [[ $broker == seaway ]]; then
    grep -iE 'error|fatal|panic' "$work/seaway.log" | tail -5 | sed 's/^/seaway log: /' || true
  else
    grep -iE 'error|warning' "$work/mosquitto/mosquitto.log" | tail -5 | sed 's/^/mosquitto log: /' || true
  fi
  stop_servers
}

# j NAME FIELD: a field of a run's JSON summary ("-" when the run failed).
j() {
  local f="$work/$1.json"
  [[ -s $f ]] && jq -r ".$2 // \"-\"" "$f" || echo -
}
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
ratio() {  # ratio A B: A/B with 2 decimals, or "-"
  [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && awk -v a="$1" -v b="$2" \
    'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }' || echo -
}
num() { [[ $1 =~ ^[0-9.]+$ ]] && printf "%.0f" "$1" || echo "$1"; }

echo "== MQTT: Seaway beside Mosquitto, the same load from bench/mqtt_bench"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "commit:    $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ has uncommitted changes)')"
echo "mosquitto: $("$mosquitto" -h 2>&1 | head -1)"
echo "uptime:    $(uptime)"
echo "seaway:    serve defaults, no-drop limits as Mosquitto's (--mqtt-max-inflight 65535 --mqtt-max-queued 10000000)${seaway_args:+ plus $seaway_args}"
echo "load:      MQTT $version, $duration s measured after $warmup s warmup, $threads client loop thread(s)"

common=(--duration "$duration" --warmup "$warmup")
rows=()  # scenario|metric|seaway|mosquitto|ratio|target|note
for s in "${scenarios[@]}"; do
  case $s in
    fanin)
      args=(fanin "${common[@]}" --publishers "$publishers" --qos 1 --topic write/bench
        --subscribers 1 ${window:+--window "$window"})
      run fanin-mosquitto mosquitto "${args[@]}"
      run fanin-seaway seaway "${args[@]}"
      sw=$(j fanin-seaway acked_per_s) mq=$(j fanin-mosquitto acked_per_s)
      r=$(ratio "$sw" "$mq")
      rows+=("fanin QoS 1, $publishers pub -> storage|PUBACKs/s|$(num "$sw")|$(num "$mq")|$r|>= 2|Seaway stores each line before its PUBACK")
      rows+=("  same, to the subscriber|delivered/s|$(num "$(j fanin-seaway delivered_per_s)")|$(num "$(j fanin-mosquitto delivered_per_s)")|$(ratio "$(j fanin-seaway delivered_per_s)" "$(j fanin-mosquitto delivered_per_s)")||missing: Seaway $(j fanin-seaway missing), Mosquitto $(j fanin-mosquitto missing)")
      rows+=("  same, at saturation|p99 PUBACK ms|$(j fanin-seaway ack_p99_ms)|$(j fanin-mosquitto ack_p99_ms)|||")
      if [[ $sw =~ ^[0-9.]+$ ]]; then
        half=$(calc "$sw / 2 / $publishers")
        run fanin-half seaway "${args[@]}" --rate "$half"
        p99=$(j fanin-half ack_p99_ms)
        rows+=("  Seaway at half its max ($(num "$(calc "$sw / 2")") msg/s)|p99 PUBACK ms|$p99|||<= 10|p50 $(j fanin-half ack_p50_ms) ms, acked $(num "$(j fanin-half acked_per_s)")/s, backlog $(j fanin-half backlog)")
      fi
      # Like for like: both brokers paced at half of Mosquitto's maximum (not a target; it shows
      # what each costs per message when messages arrive one at a time).
      if [[ $mq =~ ^[0-9.]+$ ]]; then
        mhalf=$(calc "$mq / 2 / $publishers")
        run fanin-mq-half mosquitto "${args[@]}" --rate "$mhalf"
        run fanin-sw-at-mq-half seaway "${args[@]}" --rate "$mhalf"
        rows+=("  both at half Mosquitto's max ($(num "$(calc "$mq / 2")") msg/s)|p99 PUBACK ms|$(j fanin-sw-at-mq-half ack_p99_ms)|$(j fanin-mq-half ack_p99_ms)|||p50 $(j fanin-sw-at-mq-half ack_p50_ms) / $(j fanin-mq-half ack_p50_ms) ms; broker cores $(j fanin-sw-at-mq-half broker_cpu) / $(j fanin-mq-half broker_cpu)")
      fi
      ;;
    fanout0 | fanout1)
      q=${s#fanout}
      args=(fanout "${common[@]}" --subscribers "$subscribers" --qos "$q" --payload-bytes 64
        ${window:+--window "$window"})
      run "$s-mosquitto" mosquitto "${args[@]}"
      run "$s-seaway" seaway "${args[@]}"
      sw=$(j "$s-seaway" delivered_per_s) mq=$(j "$s-mosquitto" delivered_per_s)
      rows+=("fanout QoS $q, 1 pub -> $subscribers sub|delivered/s|$(num "$sw")|$(num "$mq")|$(ratio "$sw" "$mq")|>= 2|p99 delivery ms: Seaway $(j "$s-seaway" del_p99_ms), Mosquitto $(j "$s-mosquitto" del_p99_ms); lost: $(j "$s-seaway" lost) / $(j "$s-mosquitto" lost)")
      ;;
    idle)
      args=(idle --connections "$connections" --duration "$duration")
      run idle-mosquitto mosquitto "${args[@]}"
      run idle-seaway seaway "${args[@]}"
      sw=$(j idle-seaway rss_after) mq=$(j idle-mosquitto rss_after)
      mb() { [[ $1 =~ ^[0-9]+$ ]] && calc "sprintf(\"%.1f\", $1 / 1e6)" || echo -; }
      rows+=("idle $connections connections|broker RSS MB|$(mb "$sw")|$(mb "$mq")|$(ratio "$sw" "$mq")|< 150 (Seaway)|connected $(j idle-seaway connected) / $(j idle-mosquitto connected); RSS before: $(mb "$(j idle-seaway rss_before)") / $(mb "$(j idle-mosquitto rss_before)") MB")
      ;;
  esac
done

# --- table ---------------------------------------------------------------------------------------
echo
echo "== results ($duration s per run, $threads client loop thread(s), MQTT $version)"
echo "uptime:  $(uptime)"
fmt="| %-42s | %-14s | %10s | %10s | %7s | %-14s | %s\n"
printf "$fmt" scenario metric Seaway Mosquitto "SW/Mosq" target notes
printf "$fmt" "---" "---" "---:" "---:" "---:" "---" "---"
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d e f g <<<"$r"
  printf "$fmt" "$a" "$b" "$c" "$d" "$e" "$f" "$g"
done
echo
echo "Tool CPU (cores) / broker CPU / other processes, per run; SATURATED: the tool was the limit:"
for f in "$work"/*.json; do
  [[ -s $f ]] || continue
  jq -r --arg n "$(basename "$f" .json)" \
    'if .mode == "idle" then empty else "  \($n): tool \(.tool_cpu) (busiest loop thread \(.tool_max_loop_cpu)), broker \(.broker_cpu), others \(.others_cpu)\(if .tool_saturated then "  SATURATED" else "" end)\(if .disconnects > 0 then "  DISCONNECTS \(.disconnects)" else "" end)" end' "$f"
done

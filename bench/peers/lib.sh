# Helpers shared by the peer scripts in bench/peers (sourced, not run).
# shellcheck shell=bash

# Installs Debian packages when `cmd` is missing: ensure_installed CMD PACKAGE...
ensure_installed() {
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  echo "peers: installing $* (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null; } ||
    { echo "peers: could not install $*" >&2; return 1; }
  command -v "$cmd" >/dev/null 2>&1 || { echo "peers: $cmd still missing after install" >&2; return 1; }
}

# True when nothing listens on 127.0.0.1:PORT (or on every address).
port_is_free() {
  [[ -z "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]]
}

# The first free port at or above $1.
pick_port() {
  local p=$1
  while ! port_is_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

# Fails unless every given port is free.
require_free_ports() {
  local p
  for p in "$@"; do
    port_is_free "$p" || { echo "peers: port $p is in use; pick others (see bench/peers/README.md)" >&2; return 1; }
  done
}

# Waits until `curl URL` succeeds, up to SECONDS; fails early if PID exits.
wait_for_http() {
  local url=$1 pid=$2 seconds=$3 i
  for ((i = 0; i < seconds * 5; i++)); do
    curl -sf -o /dev/null "$url" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# Stops the process whose PID the start command saved in PIDFILE: SIGTERM, then SIGKILL after 30 s.
stop_pidfile() {
  local pidfile=$1 name=$2 pid i
  [[ -f "$pidfile" ]] || { echo "peers: no $pidfile: $name was not started here" >&2; return 0; }
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "peers: $name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

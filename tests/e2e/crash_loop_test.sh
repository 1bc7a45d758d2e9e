#!/usr/bin/env bash
# Crash loop (tests/e2e): the storage engine, in its own process, is killed with SIGKILL at random
# moments while it writes; after every kill it is reopened and must hold every row it
# acknowledged, whole. CI runs 20 kills; `crash_loop_test.sh WRITER 200` is the long variant.
# Usage: crash_loop_test.sh path/to/crash_writer [kills]
set -euo pipefail

WRITER=${1:?usage: crash_loop_test.sh path/to/crash_writer [kills]}
KILLS=${2:-20}
WORK=$(mktemp -d /tmp/seaway_crash_XXXXXX)
trap 'rm -rf "$WORK"' EXIT

next=0
for round in $(seq 1 "$KILLS"); do
  "$WRITER" write "$WORK/db" "$next" >>"$WORK/acks" 2>"$WORK/writer.log" &
  pid=$!
  # Random moment: 20..400 ms, often inside startup/recovery, often mid group commit.
  sleep "0.$(printf '%03d' $(( (RANDOM % 380) + 20 )))"
  kill -9 "$pid" 2>/dev/null || { echo "FAIL: writer exited early:"; cat "$WORK/writer.log"; exit 1; }
  wait "$pid" 2>/dev/null || true
  # A partial last line (killed mid-printf) is not an acknowledgement.
  if [[ -s "$WORK/acks" && "$(tail -c1 "$WORK/acks")" != "" ]]; then
    sed -i '$ d' "$WORK/acks"
  fi
  result=$("$WRITER" verify "$WORK/db" "$WORK/acks") || { echo "FAIL round $round: $result"; exit 1; }
  echo "round $round: $result"
  last=$(tail -n1 "$WORK/acks" | awk '{print $2}')
  next=$(( ${last:-0} + 1000 ))  # fresh row numbers for the next round
done
echo "crash loop: $KILLS kills, zero acknowledged rows lost, no partial rows"

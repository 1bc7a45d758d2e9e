#!/usr/bin/env bash
# Long differential run of Seaway's SQL against SQLite (tests/unit/query/differential_test.cc):
# the CI test runs 500 queries from a fixed seed; this runs QUERIES (default 10,000) from each
# SEED given, or from a fresh seed that it prints, so that every run explores new data and
# queries. A mismatch prints the seed, the query in both dialects and both answers, with the
# SEAWAY_DIFF_REPLAY line that reruns it alone.
#
# Usage: tests/long/sql_differential.sh [QUERIES [SEED...]]
#   BIN=path/to/differential_test overrides the binary (default: the release build's);
#   build it first with `make build` (or `cmake --build --preset release --target
#   differential_test`).
set -euo pipefail
cd "$(dirname "$0")/../.."

QUERIES=${1:-10000}
shift || true
SEEDS=("$@")
if [[ ${#SEEDS[@]} -eq 0 ]]; then
  SEEDS=("$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')")
fi
BIN=${BIN:-build/release/tests/unit/query/differential_test}
if [[ ! -x "$BIN" ]]; then
  echo "missing $BIN: run 'make build' first" >&2
  exit 2
fi

status=0
for seed in "${SEEDS[@]}"; do
  echo "=== seed $seed, $QUERIES queries"
  if ! SEAWAY_DIFF_SEED="$seed" SEAWAY_DIFF_QUERIES="$QUERIES" \
      "$BIN" --gtest_filter='SqlDifferentialTest.RandomQueriesAgreeWithSqlite' 2>&1 \
      | grep -v ' info  storage opened'; then
    status=1
  fi
done
if [[ $status -eq 0 ]]; then
  echo "sql differential: ${#SEEDS[@]} seed(s) x $QUERIES queries, zero mismatches"
else
  echo "sql differential: MISMATCHES (see above)"
fi
exit $status

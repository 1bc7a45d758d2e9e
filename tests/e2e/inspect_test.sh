#!/usr/bin/env bash
# seaway-inspect on real files (tests/e2e): storage_fixture writes a small data directory with the
# engine (four segments, a manifest with a tombstone, a WAL file with two writes and a delete);
# the inspector must report what is known to be in them, and name the file and offset of damage
# in altered copies.
# Usage: inspect_test.sh path/to/seaway-inspect path/to/storage_fixture
set -euo pipefail

INSPECT=${1:?usage: inspect_test.sh path/to/seaway-inspect path/to/storage_fixture}
FIXTURE=${2:?usage: inspect_test.sh path/to/seaway-inspect path/to/storage_fixture}
WORK=$(mktemp -d /tmp/seaway_inspect_XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
# expect OUTPUT_FILE TEXT: the output holds TEXT (a fixed string).
expect() { grep -qF -- "$2" "$1" || { cat "$1"; fail "expected '$2' in the output above"; }; }
# run_ok / run_fails: run the inspector, keeping stdout in $WORK/out and stderr in $WORK/err.
run_ok() { "$INSPECT" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; fail "'$*' failed"; }; }
run_fails() {
  local rc=0
  "$INSPECT" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc -eq 1 ]] || { cat "$WORK/err"; fail "'$*' exited with $rc, not 1"; }
}
# flip FILE OFFSET: inverts the bits of one byte.
flip() {
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  # shellcheck disable=SC2059  # the format is the octal escape of the new byte
  printf "\\$(printf '%03o' $(( byte ^ 255 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

"$FIXTURE" write "$WORK/db" 2>/dev/null
SHARD=$WORK/db/shard-000

# Manifest: LSN 1-4 flushed to segments 1-4 with the delete of LSN 3 as a tombstone; the WAL
# file with LSN 5-7 is not listed.
run_ok manifest "$SHARD"
expect "$WORK/out" "flushed LSN  4"
expect "$WORK/out" "next segment 5"
expect "$WORK/out" "segments     4 listed"
expect "$WORK/out" "seg-000000000004.sws"
expect "$WORK/out" "tombstones   1"
expect "$WORK/out" "series 2  2024-06-01T00:00:00Z .. 2024-06-01T00:00:20Z  LSN 3"
expect "$WORK/out" "000000000003.wal"
run_fails manifest "$WORK/db"
expect "$WORK/err" "is an engine directory"

# The plant segment of 2024-06-01: every field type, presence all / some / none.
SEG=$SHARD/seg-000000000002.sws
run_ok segment "$SEG" --chunks --values 2
expect "$WORK/out" "table        plant (tenant 7, database main)"
expect "$WORK/out" "partition    2024-06-01T00:00:00Z .. 2024-06-02T00:00:00Z"
expect "$WORK/out" "max LSN      2"
expect "$WORK/out" "rows         13 in 3 series, 3 chunks"
expect "$WORK/out" "fields       temp float, serial unsigned, running boolean, state string, count integer"
expect "$WORK/out" "series 1  line=a machine=m1  rows 6  chunks 1"
expect "$WORK/out" "series 3  line=b  rows 1"
expect "$WORK/out" "count    some  validity @"
expect "$WORK/out" "running  none"
expect "$WORK/out" "min 20.5  max 21.75"
expect "$WORK/out" "2024-06-01T00:00:10Z 20.75 1001   false   \"idle\" -39"
expect "$WORK/out" "2024-06-01T00:00:00.250Z -1.5"
expect "$WORK/out" '"maintenance \"weekly\""'
# 8200 rows of one series, a second apart, are cut into chunks where hours begin.
run_ok segment "$SHARD/seg-000000000001.sws" --chunks
expect "$WORK/out" "rows         8200 in 1 series, 3 chunks"
expect "$WORK/out" "chunk 1  rows 3600  2024-06-01T01:00:00Z .. 2024-06-01T01:59:59Z"
expect "$WORK/out" "chunk 2  rows 1000  2024-06-01T02:00:00Z"

# The WAL: records 5-7 decoded, one before 1970 with nanosecond precision, one a delete.
WAL=$SHARD/000000000003.wal
run_ok wal "$WAL" --records
expect "$WORK/out" "frames       3, LSN 5 .. 7"
expect "$WORK/out" "table plant  series 3  rows 7"
expect "$WORK/out" "fields  temp float, serial unsigned, running boolean, state string, count integer"
expect "$WORK/out" "series 5  meter=y  rows 1  1969-12-31T00:00:00.000000001Z"
expect "$WORK/out" "table plant  delete 2024-06-01T00:00:00Z .. 2024-06-03T00:00:00Z"
expect "$WORK/out" "end          clean"
second=$(awk '$2 == 6 && $3 == "write" {print $1}' "$WORK/out")
last=$(awk '$2 == 7 && $3 == "delete" {print $1}' "$WORK/out")
[[ -n "$second" && -n "$last" ]] || fail "frames with LSN 6 and 7 not listed"

# Damage. A torn tail is normal after a crash: reported, exit 0.
cp "$WAL" "$WORK/torn.wal"
truncate -s -5 "$WORK/torn.wal"
run_ok wal "$WORK/torn.wal"
expect "$WORK/out" "torn tail at offset $last"
# A damaged first frame followed by a valid one: damage in the middle of the log.
cp "$WAL" "$WORK/mid.wal"
flip "$WORK/mid.wal" 40
run_fails wal "$WORK/mid.wal"
expect "$WORK/err" "mid.wal"
expect "$WORK/err" "damaged frame at offset 8 followed by valid frames at offset $second"
# Not a WAL file at all.
run_fails wal "$SEG"
expect "$WORK/err" "bad magic"
expect "$WORK/err" "at offset 0"

# A flipped index byte: the index checksum fails; the error says where the index is.
cp "$SEG" "$WORK/index.sws"
flip "$WORK/index.sws" $(( $(stat -c %s "$SEG") - 33 ))
run_fails segment "$WORK/index.sws"
expect "$WORK/err" "index.sws': index checksum mismatch (index at offset"
# A flipped byte in a data block: the header still reads; decoding names the block's offset.
temp_block=$(grep -m1 -oE "temp +all +values @[0-9]+" <("$INSPECT" segment "$SEG" --chunks) |
             grep -oE "[0-9]+$")
cp "$SEG" "$WORK/block.sws"
flip "$WORK/block.sws" $(( temp_block + 2 ))
run_ok segment "$WORK/block.sws"
run_fails segment "$WORK/block.sws" --values 1
expect "$WORK/err" "block.sws': block checksum mismatch at offset $temp_block"
# A cut file: no footer.
head -c 20 "$SEG" >"$WORK/short.sws"
run_fails segment "$WORK/short.sws"
expect "$WORK/err" "shorter than a footer"

# A damaged manifest, a listed segment missing (M1), an unlisted leftover.
cp -r "$SHARD" "$WORK/copy"
flip "$WORK/copy/MANIFEST" 12
run_fails manifest "$WORK/copy"
expect "$WORK/err" "checksum mismatch"
cp "$SHARD/MANIFEST" "$WORK/copy/MANIFEST"
rm "$WORK/copy/seg-000000000003.sws"
cp "$SEG" "$WORK/copy/seg-000000000009.sws"
run_fails manifest "$WORK/copy"
expect "$WORK/out" "MISSING"
expect "$WORK/out" "seg-000000000009.sws"
expect "$WORK/out" "unlisted segment: deleted on the next open"
expect "$WORK/err" "lists seg-000000000003.sws, which is missing (M1)"
run_fails segment "$WORK/absent.sws"

echo "inspect: manifest, segments and WAL reported; damaged copies rejected with file and offset"

#!/usr/bin/env bash
# Checks (or with --fix, applies) clang-format 14 on Seaway's C++ files.
#
#   tools/check-format.sh            every tracked and new C++ file under src tests bench tools
#   tools/check-format.sh --changed  only files changed since HEAD, plus new untracked files
#   tools/check-format.sh --fix      rewrite files in place instead of reporting
#
# The whole tree is kept formatted, so checking every file is the same as checking changed and
# new ones; CI (on a fresh clone, where nothing is "changed") uses the default.
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
command -v "$CLANG_FORMAT" >/dev/null || { echo "check-format: $CLANG_FORMAT not found (make deps)" >&2; exit 1; }

fix=0
changed=0
for arg in "$@"; do
  case "$arg" in
    --fix) fix=1 ;;
    --changed) changed=1 ;;
    *) echo "usage: $0 [--fix] [--changed]" >&2; exit 2 ;;
  esac
done

pattern='^(src|tests|bench|tools)/.*\.(h|cc|cpp|hpp)$'
if [[ $changed -eq 1 ]]; then
  files=$( { git diff --name-only HEAD 2>/dev/null; git ls-files --others --exclude-standard; } | grep -E "$pattern" | sort -u || true)
else
  files=$( { git ls-files; git ls-files --others --exclude-standard; } | grep -E "$pattern" | sort -u || true)
fi

bad=()
for f in $files; do
  [[ -f "$f" ]] || continue
  if [[ $fix -eq 1 ]]; then
    "$CLANG_FORMAT" -i "$f"
  elif ! "$CLANG_FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done

if [[ ${#bad[@]} -gt 0 ]]; then
  echo "check-format: ${#bad[@]} file(s) need clang-format (run: make format):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
[[ $fix -eq 1 ]] || echo "check-format: $(wc -w <<<"$files") file(s) formatted correctly"

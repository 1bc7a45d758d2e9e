#!/usr/bin/env bash
# Installs the Debian packages listed in deps/debian.txt that are not installed yet.
# Idempotent: when everything is present it does nothing and never calls apt-get.
# Usage: tools/install-deps.sh [deps-file]
set -euo pipefail

deps_file="${1:-$(dirname "$0")/../deps/debian.txt}"
packages=$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$deps_file" | awk 'NF {print $1}')

missing=()
for pkg in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "install-deps: error: not root and no passwordless sudo; install them first:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} package(s)"

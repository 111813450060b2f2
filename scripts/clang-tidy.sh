#!/usr/bin/env bash
# clang-tidy over the native sources with the checks in .clang-tidy; any
# warning fails. Two files at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null || { echo "clang-tidy not found: apt-get install clang-tidy"; exit 2; }
napi=$(node -p "require('node-addon-api').include_dir")
node_inc=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
export napi node_inc
# shellcheck disable=SC2016
printf '%s\0' src/*/*.cc | xargs -0 -P2 -n1 bash -c '
  out=$(clang-tidy --quiet --warnings-as-errors="*" "$1" -- -std=c++17 -Isrc -I"$napi" -I"$node_inc" \
    -I/usr/include/node -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DRAPIDJSON_HAS_STDSTRING=1 2>&1)
  rc=$?
  [ "$rc" -eq 0 ] || { echo "== $1"; printf "%s\n" "$out" | grep -v "warnings* generated\|^Suppressed\|^Use -header-filter\|treated as errors*\.$"; }
  exit "$rc"' bash

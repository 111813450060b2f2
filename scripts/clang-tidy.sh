#!/usr/bin/env bash
# clang-tidy over the native sources with the checks in .clang-tidy.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null || { echo "clang-tidy not found: apt-get install clang-tidy"; exit 2; }
napi=$(node -p "require('node-addon-api').include_dir")
node_inc=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
status=0
for f in src/*/*.cc; do
  clang-tidy --quiet "$f" -- -std=c++17 -Isrc -I"$napi" -I"$node_inc" -I/usr/include/node \
    -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DRAPIDJSON_HAS_STDSTRING=1 2>/dev/null || status=1
done
exit $status

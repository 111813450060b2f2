#!/usr/bin/env bash
# Builds the native bench tools into bench/build/ (g++ -O2). HTTP/2 in the mock
# needs libnghttp2-dev; without it the mock is built HTTP/1.1-only and says so.
# Usage: bash bench/build.sh [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/build"
mkdir -p "$out"
cxx="${CXX:-g++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "bench/build.sh: $cxx not found; install g++ (apt-get install -y g++)" >&2
  exit 1
fi
flags=(-std=c++17 -O2 -g -Wall -Wextra -I"$here/native")
force="${1:-}"

stale() {  # stale OUTPUT INPUT...
  local target="$1"; shift
  [[ "$force" == "--force" || ! -x "$target" ]] && return 0
  for src in "$@"; do [[ "$src" -nt "$target" ]] && return 0; done
  return 1
}

h2_flags=()
h2_libs=()
if [[ -f /usr/include/nghttp2/nghttp2.h ]]; then
  h2_flags=(-DLLMRELAY_BENCH_H2)
  h2_libs=(-lnghttp2)
else
  echo "bench/build.sh: libnghttp2-dev not found: the mock is built without HTTP/2" \
       "(apt-get install -y libnghttp2-dev, then bash bench/build.sh --force)" >&2
fi

if stale "$out/mock-provider" "$here/native/mock_provider.cc" "$here/native/bench_common.h"; then
  "$cxx" "${flags[@]}" "${h2_flags[@]}" "$here/native/mock_provider.cc" "${h2_libs[@]}" -o "$out/mock-provider"
  echo "built $out/mock-provider${h2_flags:+ (HTTP/2 on)}"
fi
if stale "$out/load-client" "$here/native/load_client.cc" "$here/native/bench_common.h"; then
  "$cxx" "${flags[@]}" "$here/native/load_client.cc" -o "$out/load-client"
  echo "built $out/load-client"
fi

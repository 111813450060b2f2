#!/usr/bin/env bash
# Builds every test/fuzz/*_fuzz.cc as a libFuzzer target with AddressSanitizer
# and UndefinedBehaviorSanitizer, runs each for a bounded time, and exits
# non-zero if any target fails to build or finds a crash, a sanitizer error,
# a leak or a timeout. Not part of `npm test`.
#
#   npm run fuzz                          every target, 30 s each
#   FUZZ_SECONDS=20 bash scripts/fuzz.sh  every target, 20 s each
#   FUZZ_JOBS=2 bash scripts/fuzz.sh      two targets at a time (one core each)
#   bash scripts/fuzz.sh sse_parser_fuzz  only the named targets
#
# Each target links the native core (src/base, src/framing, src/providers,
# src/encoders; no Node, no curl). Work files live in build-fuzz/: the
# binaries, each target's corpus (kept between runs, so later runs start
# where earlier ones stopped) and crash reproducers in build-fuzz/artifacts/.
# Reproduce one with: build-fuzz/<target> build-fuzz/artifacts/<target>-crash-…
# (a failing run prints that command with the reproducer's path).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/build-fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-30}"
FUZZ_JOBS="${FUZZ_JOBS:-1}"
CXX="${FUZZ_CXX:-clang++}"
JOBS=2  # the build machines are small and shared

if ! [[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: expected a positive whole number of seconds in FUZZ_SECONDS but received '$SECONDS_EACH'" >&2
  exit 2
fi
if ! [[ "$FUZZ_JOBS" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: expected a positive whole number of parallel targets in FUZZ_JOBS but received '$FUZZ_JOBS'" >&2
  exit 2
fi

# -fsanitize=fuzzer needs clang's runtime (Debian: libclang-rt-<N>-dev), so
# probe by linking a trivial target rather than trusting `clang++ --version`.
can_build_fuzzers() {
  mkdir -p "$OUT"
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    "$CXX" -x c++ -fsanitize=fuzzer,address,undefined - -o "$OUT/.probe" >/dev/null 2>&1
}
if ! can_build_fuzzers; then
  echo "fuzz.sh: $CXX cannot build libFuzzer targets; installing clang and libclang-rt-14-dev" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get install -y clang libclang-rt-14-dev ||
    { $SUDO apt-get update && $SUDO apt-get install -y clang libclang-rt-14-dev; }
  if ! can_build_fuzzers; then
    echo "fuzz.sh: still cannot build libFuzzer targets with $CXX; set FUZZ_CXX to a clang++ that has libFuzzer" >&2
    exit 2
  fi
fi

cd "$ROOT"
shopt -s nullglob
SANITIZERS=address,undefined
# RAPIDJSON_SSE2 stays off: its whitespace skip makes aligned 16-byte loads
# past the end of the input (harmless within a page, but ASan reports it:
# Tencent/rapidjson#2019, #1227), which would drown real findings.
CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined
          -Isrc -DRAPIDJSON_HAS_STDSTRING=1)

# --- The core, instrumented once for all targets -----------------------------------
CORE_SOURCES=(src/base/*.cc src/pipeline/*.cc src/framing/*.cc src/providers/*.cc src/encoders/*.cc)
rm -rf "$OUT/obj"
mkdir -p "$OUT/obj" "$OUT/artifacts"
echo "fuzz.sh: compiling ${#CORE_SOURCES[@]} core sources"
compile_core_source() {
  # Named after the path: providers/openai.cc and encoders/openai.cc must not collide.
  local object="$OUT/obj/${1//\//_}.o"
  "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer-no-link,"$SANITIZERS" -c "$1" -o "$object"
}
running=0
core_failed=0
for source in "${CORE_SOURCES[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || core_failed=1
    running=$((running - 1))
  fi
  compile_core_source "$source" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || core_failed=1
  running=$((running - 1))
done
if [ "$core_failed" -ne 0 ]; then
  echo "fuzz.sh: FAILED: the core does not compile (see the errors above)" >&2
  exit 1
fi
CORE_OBJECTS=("$OUT"/obj/*.o)

# --- The targets --------------------------------------------------------------------
if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  TARGETS=()
  for source in test/fuzz/*_fuzz.cc; do TARGETS+=("$(basename "$source" .cc)"); done
fi
if [ "${#TARGETS[@]}" -eq 0 ]; then
  echo "fuzz.sh: no test/fuzz/*_fuzz.cc targets found" >&2
  exit 2
fi

FAILED=()
build_target() {
  rm -f "$OUT/$1"
  "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer,"$SANITIZERS" "test/fuzz/$1.cc" "${CORE_OBJECTS[@]}" -o "$OUT/$1"
}
running=0
for target in "${TARGETS[@]}"; do
  if [ ! -f "test/fuzz/$target.cc" ]; then
    echo "fuzz.sh: no such target: test/fuzz/$target.cc" >&2
    FAILED+=("$target (missing)")
    continue
  fi
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "fuzz.sh: building $target"
  build_target "$target" &
  running=$((running + 1))
done
wait
BUILT=()
for target in "${TARGETS[@]}"; do
  if [ -f "test/fuzz/$target.cc" ] && [ ! -x "$OUT/$target" ]; then
    FAILED+=("$target (build)")
  elif [ -x "$OUT/$target" ]; then
    BUILT+=("$target")
  fi
done

# Runs one target for SECONDS_EACH; its outcome goes to $OUT/<target>.status.
run_target() {
  local target=$1
  local corpus="$OUT/corpus/$target"
  mkdir -p "$corpus"
  # Optional per target: a dictionary of the format's tokens (test/fuzz/<target>.dict)
  # and a committed seed corpus (test/fuzz/corpus/<target>/, read, never written).
  local extra=()
  if [ -f "test/fuzz/$target.dict" ]; then extra+=(-dict="test/fuzz/$target.dict"); fi
  if [ -d "test/fuzz/corpus/$target" ]; then extra+=("test/fuzz/corpus/$target"); fi
  # -timeout: one input taking over 10 s is a hang (the parsers are linear).
  if UBSAN_OPTIONS=print_stacktrace=1 "$OUT/$target" "$corpus" "${extra[@]}" \
       -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$OUT/artifacts/$target-" 2>"$OUT/$target.log"; then
    echo ok > "$OUT/$target.status"
  else
    echo failed > "$OUT/$target.status"
  fi
}

# FUZZ_JOBS targets at a time (default 1), each on its own core.
running=0
for target in "${BUILT[@]}"; do
  if [ "$running" -ge "$FUZZ_JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "fuzz.sh: running $target for ${SECONDS_EACH}s"
  rm -f "$OUT/$target.status"
  run_target "$target" &
  running=$((running + 1))
done
wait

for target in "${BUILT[@]}"; do
  if [ "$(cat "$OUT/$target.status" 2>/dev/null)" != ok ]; then
    echo "fuzz.sh: $target FAILED; the end of its log:" >&2
    tail -n 40 "$OUT/$target.log" >&2
    # libFuzzer names the input it stopped on: say where it is and how to rerun it.
    reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$OUT/$target.log" | tail -n 1)
    if [ -n "$reproducer" ]; then
      echo "fuzz.sh: $target: reproducer $reproducer" >&2
      echo "fuzz.sh: rerun it with: $OUT/$target $reproducer" >&2
      # The bytes too, so a CI log alone is enough: base64 -d > input
      echo "fuzz.sh: its first 4 KiB as base64: $(head -c 4096 "$reproducer" | base64 -w0)" >&2
    fi
    FAILED+=("$target")
    continue
  fi
  grep -E '^stat::number_of_executed_units' "$OUT/$target.log" | sed "s/^/fuzz.sh: $target /" || true
done

if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${FAILED[*]} (logs and reproducers in build-fuzz/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#TARGETS[@]} target(s) ran ${SECONDS_EACH}s each without finding anything"

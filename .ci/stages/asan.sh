#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) over the
# native code: builds the addon, the C++ unit tests and the engine stress test
# into build-asan/ (build/Release is left alone), then runs
#   1. CTest (framing, adapters, encoders),
#   2. the engine stress test (test/stress),
#   3. the Jest suites that drive the addon hardest, with the instrumented
#      addon loaded into node (LLM_RELAY_NATIVE):
#        stream-*   start/read/abort, pause and resume, worker_threads,
#                   process exit with streams in flight
#        relay-*    pipe()/toResponse() in every format, worker-side socket
#                   writes, backpressure, 500 churning clients
#        providers  every adapter and encoder over recorded transcripts
#        faults/    every upstream and lifecycle fault (resets, truncation,
#                   stalls, bad framing, huge events, redirects, TLS, ...)
#        websocket  pipeWebSocket's relay and its backpressure
#      The other suites are left out: browser and nginx start programs that
#      must not run with the sanitizer runtime preloaded, and the examples,
#      React hook and README snippets reach the addon only through the paths
#      above.
# Any finding fails the stage. An ASan error or UB ends the process that hit it
# with exit status 1 (UB: -fno-sanitize-recover, halt_on_error; its report
# goes to that process's stderr), and every ASan/LSan report is also written
# to a log file checked after each step, so a report from a process whose
# exit status nobody looks at cannot pass unnoticed.
#
#   bash .ci/stages/asan.sh      (npm run test:asan)
set -euo pipefail
cd "$(dirname "$0")/../.."

out=build-asan
suites=(test/integration/stream- test/integration/relay- test/integration/providers test/faults/
        test/integration/websocket.test.js)

# The addon is loaded into a node that is not instrumented, so the ASan
# runtime must come first in the process: preload it (GCC's, matching the
# compiler that builds the addon). The UBSan runtime is a dependency of the
# addon and loads with it.
asan_runtime=$(g++ -print-file-name=libasan.so)
if [ ! -e "$asan_runtime" ]; then
  echo "asan.sh: g++ has no AddressSanitizer runtime (libasan.so); install g++ (libasan8)" >&2
  exit 2
fi

echo "asan.sh: building the addon, the C++ tests and the stress test into $out/"
npx cmake-js configure --out "$out" --log-level warn \
  --CDLLMRELAY_SANITIZE=address --CDLLMRELAY_TESTS=ON --CDLLMRELAY_STRESS=ON > /dev/null
npx cmake-js build --out "$out" --log-level warn --parallel 2

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# The first UB finding ends the process (the build also has
# -fno-sanitize-recover). log_path: one file per process with an ASan or
# LSan report (GCC's UBSan runtime writes to stderr whatever it is told).
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan"
# Leaks: node's own exit-time noise is suppressed by name (see the file);
# anything the addon, libcurl or GnuTLS leaks stays a report.
export LSAN_OPTIONS="suppressions=$PWD/test/sanitizers/lsan.supp:print_suppressions=0"

fail() {
  echo "asan.sh: FAILED: $1" >&2
  for f in "$logs"/*; do
    [ -e "$f" ] || continue
    echo "----- $f" >&2
    cat "$f" >&2
  done
  exit 1
}
check_logs() {
  if compgen -G "$logs/*" > /dev/null; then fail "sanitizer reports after $1 (above)"; fi
}

echo "asan.sh: CTest"
ctest --test-dir "$out" -j2 --output-on-failure > "$logs/.ctest" 2>&1 || { cat "$logs/.ctest"; fail "CTest"; }
tail -n 3 "$logs/.ctest"
rm "$logs/.ctest"
check_logs CTest

echo "asan.sh: engine stress test"
LLMRELAY_STRESS_SCALE=2 "$out/llmrelay_stress" --gtest_brief=1 || fail "the stress test"
check_logs "the stress test"

echo "asan.sh: Jest (${suites[*]}) with the instrumented addon"
# --runInBand: the tests run in Jest's own process, which exits normally, so
# LeakSanitizer checks it; a worker process that Jest has to kill at the end
# would be killed before any leak check.
LD_PRELOAD="$asan_runtime" LLM_RELAY_NATIVE="$PWD/$out/Release/llm_relay.node" \
  node node_modules/.bin/jest --runInBand "${suites[@]}" || fail "Jest"
check_logs Jest
echo "asan.sh: no sanitizer reports"

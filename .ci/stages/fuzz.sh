#!/usr/bin/env bash
# libFuzzer over the SSE parser, the NDJSON splitter and every provider
# adapter (scripts/fuzz.sh), each target for a bounded time starting from its
# committed seed corpus (test/fuzz/corpus/<target>/, made from the recorded
# transcripts by test/fuzz/make-corpus.js). Two targets run at a time, one per
# core: 8 targets x 40 s / 2, plus about a minute of building, stays under
# 4 minutes on a 2-core machine. A crash, sanitizer report, leak or hang
# fails the stage; the log names the reproducer and prints its bytes.
#
#   bash .ci/stages/fuzz.sh      FUZZ_SECONDS=120 for a longer run
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS="${FUZZ_SECONDS:-40}" FUZZ_JOBS="${FUZZ_JOBS:-2}" bash scripts/fuzz.sh

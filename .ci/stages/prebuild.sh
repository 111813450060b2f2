#!/usr/bin/env bash
# Rebuilds the prebuilt binary from scratch (scripts/prebuild/build.sh: a
# bullseye root, the pinned Debian sources, static libraries, the addon; its
# check.sh verifies NEEDED, exports, imports and GLIBC/GLIBCXX versions), then
# runs the pause/backpressure suites a second time against that binary: it
# links libcurl 8, whose pause handling differs from the system's 7.88.
set -euo pipefail
cd "$(dirname "$0")/../.."
# debootstrap makes the build root; patch applies Debian's patches.
bash .ci/stages/apt.sh debootstrap patch xz-utils bzip2
timeout 1500 bash scripts/prebuild/build.sh
echo
echo "Jest against the prebuilt binary (LLM_RELAY_NATIVE):"
LLM_RELAY_NATIVE=prebuilds/linux-x64/llm_relay.node timeout 600 npx jest \
  test/integration/relay-backpressure.test.js test/integration/stream-transport.test.js \
  test/integration/relay-direct.test.js test/integration/relay-web.test.js \
  test/integration/trust-store.test.js test/unit/load-native.test.js

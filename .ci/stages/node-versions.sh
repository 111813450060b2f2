#!/usr/bin/env bash
# The suites that touch Node itself (its http internals for direct writes,
# Workers, process exit, N-API teardown) on the Node versions users run: 22
# and 24 (the active LTS), beside the machine's own (npm test covers it).
set -euo pipefail
cd "$(dirname "$0")/../.."
suites=(test/integration/relay-direct.test.js test/integration/relay-node.test.js test/integration/relay-churn.test.js
        test/integration/relay-web.test.js test/integration/stream-transport.test.js test/faults)
for major in 22 24; do
  node_bin=$(bash scripts/node-binary.sh "$major")
  echo "--- Node $("$node_bin" --version)"
  "$node_bin" node_modules/.bin/jest --ci "${suites[@]}"
done

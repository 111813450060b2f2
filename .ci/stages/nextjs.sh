#!/usr/bin/env bash
# A real Next.js 16 app (test/nextjs-app: its own package.json and lockfile)
# with llm-relay installed from the npm pack tarball, as users get it:
# `next build`, then test/nextjs-app/check.js runs `next start` and drives the
# useChat page in headless Chromium against the mock provider (the answer
# rendered exactly; Stop closes the provider request). A build without
# serverExternalPackages must fail with an error that names the setting.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
app=$repo/test/nextjs-app
[ -x /usr/bin/chromium ] || bash .ci/stages/apt.sh chromium
rm -rf "$repo/build-nextjs" && mkdir -p "$repo/build-nextjs"
npm pack --silent --pack-destination "$repo/build-nextjs" > /dev/null
tarball=$(ls "$repo"/build-nextjs/llm-relay-*.tgz)
cd "$app"
rm -rf node_modules .next
timeout 600 npm ci --no-audit --no-fund --loglevel=error
# --no-save: the app's package.json and lockfile stay as committed.
timeout 600 npm install --no-save --no-audit --no-fund --loglevel=error --foreground-scripts "$tarball" 2>&1 | grep -E '^llm-relay:' || true
[ -f node_modules/llm-relay/package.json ] || { echo "nextjs: llm-relay did not install from $tarball" >&2; exit 1; }
# Without serverExternalPackages the build must fail, and its error must name the setting.
if NEXT_TELEMETRY_DISABLED=1 LLM_RELAY_TEST_BUNDLED=1 timeout 600 npx next build > "$repo/build-nextjs/bundled.log" 2>&1; then
  echo "nextjs: the build without serverExternalPackages succeeded; expected it to fail" >&2
  exit 1
fi
grep -q "serverExternalPackages: \['llm-relay'\]" "$repo/build-nextjs/bundled.log" ||
  { cat "$repo/build-nextjs/bundled.log"; echo "nextjs: the failed build does not name serverExternalPackages" >&2; exit 1; }
echo "ok - without serverExternalPackages, next build fails and names the setting"
rm -rf .next
NEXT_TELEMETRY_DISABLED=1 timeout 600 npx next build
NEXT_TELEMETRY_DISABLED=1 timeout 300 node check.js

#!/usr/bin/env bash
# One command from a fresh clone to the running demo:
#   1. the system packages the native addon builds against and `npm test` uses
#      (GoogleTest, openssl, nginx, Chromium, redis-server) (Debian/Ubuntu, apt-get),
#   2. npm ci, whose install script compiles the addon with cmake-js,
#   3. the Express demo on http://127.0.0.1:3000 (PORT to change).
# Safe to run again: each step is skipped when already done.
#   SKIP_DEMO=1 bash scripts/setup.sh    installs and builds, then exits
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nsetup: %s\n' "$*" >&2; exit 1; }

# --- 1. system packages ------------------------------------------------------
# Build: cmake, g++, make, libcurl (GnuTLS, HTTP/2), RapidJSON. Tests: GoogleTest, openssl
# (self-signed CA), nginx (proxy buffering), chromium (browser tests), redis-server (resumable
# streams). Keep this list equal to the one in .ci/run.
packages=(cmake g++ make libcurl4-gnutls-dev rapidjson-dev libgtest-dev openssl nginx chromium redis-server)
step "System packages: ${packages[*]}"
if ! command -v dpkg-query > /dev/null; then
  # Not Debian-like: say what is needed instead of guessing a package manager.
  echo "No dpkg here. Install by hand: CMake >= 3.15, a C++17 compiler, libcurl (dev headers), RapidJSON."
else
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "All present."
  else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo > /dev/null || fail "need root to install ${missing[*]} (no sudo found): run as root, or install them first"
      SUDO="sudo"
    fi
    echo "Installing: ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# --- 2. Node dependencies and the native addon -------------------------------
step "Node.js"
command -v node > /dev/null || fail "Node.js >= 20 is required (https://nodejs.org or your package manager)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js >= 20 is required, found $(node --version)"
echo "$(node --version), npm $(npm --version)"

step "npm ci (builds the native addon)"
# npm ci starts from a clean node_modules, so skip it when the lockfile's tree is already there and
# the addon is built; `npm ls` exits non-zero when anything is missing or out of date.
if [ -f build/Release/llm_relay.node ] && npm ls --all > /dev/null 2>&1; then
  echo "Dependencies installed and addon built; skipping (delete node_modules to force)."
else
  # npm ci refuses a lockfile that lacks optional packages its registry does not serve (other
  # platforms' prebuilt bindings; npm/cli#9846), where npm install accepts the same lockfile.
  npm ci --no-audit --no-fund || {
    echo "npm ci failed; trying npm install with the same lockfile."
    npm install --no-audit --no-fund
  }
fi
# A pulled change to the C++ sources leaves an older addon behind: rebuild it.
if [ -n "$(find src CMakeLists.txt -newer build/Release/llm_relay.node -print -quit 2> /dev/null)" ]; then
  step "C++ sources changed since the last build: npm run build"
  npm run build
fi
[ -f build/Release/llm_relay.node ] || fail "the addon was not built (build/Release/llm_relay.node missing); see the npm output above"
node -e "require('./lib')" || fail "the addon was built but does not load; run npm run build for details"
echo "Addon loads."

# --- 3. the demo --------------------------------------------------------------
if [ "${SKIP_DEMO:-}" = "1" ]; then
  step "Done (SKIP_DEMO=1). Start the demo with: npm run demo"
  exit 0
fi
step "Starting the demo (Ctrl+C to stop)"
if [ -z "${OPENAI_API_KEY:-}${ANTHROPIC_API_KEY:-}${GEMINI_API_KEY:-}" ]; then
  echo "No OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY: using the built-in mock provider."
fi
exec node examples/express/server.js

'use strict';

// npm's install step for llm-relay. Uses the prebuilt binary of the package
// (prebuilds/<platform>-<arch>) when it loads here; otherwise, or with
// LLM_RELAY_BUILD_FROM_SOURCE=1, or in a git checkout (what you edit is what
// runs), compiles the addon with cmake-js against the system's libcurl.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const target = `${process.platform}-${process.arch}`;
const prebuilt = path.join(root, 'prebuilds', target, 'llm_relay.node');
const PACKAGES = 'cmake g++ make libcurl4-gnutls-dev rapidjson-dev';

function log(line) {
  console.log(`llm-relay: ${line}`);
}

function tryPrebuilt() {
  if (!fs.existsSync(prebuilt)) return `no prebuilt binary for ${target}`;
  try {
    process.dlopen({ exports: {} }, prebuilt);
    return null;
  } catch (err) {
    return `the prebuilt ${target} binary does not load here (${String(err.message).split('\n')[0]})`;
  }
}

function buildFromSource(reason) {
  log(`${reason}: building from source with cmake-js.`);
  log(
    `  This needs CMake >= 3.15, a C++17 compiler, libcurl with HTTP/2 and RapidJSON (Debian/Ubuntu: apt-get install ${PACKAGES}).`,
  );
  const cli = require.resolve('cmake-js/bin/cmake-js');
  const result = spawnSync(process.execPath, [cli, 'compile', '--out', 'build', '--log-level', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(
      `\nllm-relay: the source build failed (see above). Install the build tools and libraries (apt-get install ${PACKAGES}), then run npm rebuild llm-relay.`,
    );
    process.exit(result.status || 1);
  }
  log('built build/Release/llm_relay.node');
}

function main() {
  if (process.env.LLM_RELAY_BUILD_FROM_SOURCE === '1') return buildFromSource('LLM_RELAY_BUILD_FROM_SOURCE=1');
  if (fs.existsSync(path.join(root, '.git'))) return buildFromSource('a git checkout');
  const problem = tryPrebuilt();
  if (problem === null) {
    log(`using the prebuilt binary for ${target} (set LLM_RELAY_BUILD_FROM_SOURCE=1 to compile instead)`);
    return undefined;
  }
  return buildFromSource(problem);
}

main();

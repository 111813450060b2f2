'use strict';

// Finds the native addon: a local source build first (build/Release, what
// `npm run build` and the source-build fallback of the install script make),
// then the prebuilt binary shipped in the package (prebuilds/<platform>-<arch>).
// The require paths are literal so bundlers' file tracing (Next.js output
// tracing, @vercel/nft) copies the .node files along.

const fs = require('node:fs');
const path = require('node:path');

const PACKAGE_DIR = path.join(__dirname, '..');
const PREBUILT = `${process.platform}-${process.arch}`;
const SOURCE_BUILD_PACKAGES = 'cmake g++ make libcurl4-gnutls-dev rapidjson-dev';

// A bundler that fails on the next lines ("Module not found", "non-ecmascript
// placeable asset") is bundling llm-relay: keep it external instead.
// Next.js: serverExternalPackages: ['llm-relay'] in next.config.
function loadSourceBuild() {
  return require('../build/Release/llm_relay.node'); // Next.js: serverExternalPackages: ['llm-relay']
}

function loadPrebuilt() {
  if (PREBUILT === 'linux-x64') return require('../prebuilds/linux-x64/llm_relay.node'); // see above
  return undefined;
}

/**
 * Where this module seems to have been bundled into an application's build
 * output instead of being required from node_modules at run time.
 */
function looksBundled() {
  const dir = __dirname.split(path.sep);
  if (dir.includes('.next') || dir.includes('.output') || dir.includes('.vercel')) return true;
  // Bundlers rewrite __dirname (webpack: "/") or emit this file into their
  // output without the package around it: no llm-relay package.json above lib/.
  try {
    return JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')).name !== 'llm-relay';
  } catch {
    return true;
  }
}

function notFoundError(attempts) {
  const detail = attempts.map(({ where, err }) => `  ${where}: ${String(err.message).split('\n')[0]}`).join('\n');
  let hint;
  if (looksBundled()) {
    hint =
      'llm-relay: the native addon cannot be loaded because llm-relay was bundled into the server build ' +
      `(${__dirname}). Keep it external so Node requires it from node_modules at run time: ` +
      "in next.config, set serverExternalPackages: ['llm-relay'] (Next.js 15+; " +
      "experimental.serverComponentsExternalPackages in 14); with webpack or esbuild, mark 'llm-relay' as external.";
  } else if (PREBUILT === 'linux-x64') {
    hint =
      'llm-relay: neither a source build nor the prebuilt linux-x64 binary loads. The prebuilt binary ' +
      'needs glibc 2.28 or newer (Debian 10+, Ubuntu 18.10+, RHEL 8+; not musl/Alpine). Build from source instead: ' +
      `apt-get install ${SOURCE_BUILD_PACKAGES}, then LLM_RELAY_BUILD_FROM_SOURCE=1 npm rebuild llm-relay.`;
  } else {
    hint =
      `llm-relay: no prebuilt binary for ${PREBUILT} and no source build. Build it: install CMake >= 3.15, ` +
      'a C++17 compiler, libcurl with HTTP/2 (dev headers) and RapidJSON ' +
      `(Debian/Ubuntu: apt-get install ${SOURCE_BUILD_PACKAGES}), then npm rebuild llm-relay.`;
  }
  const err = new Error(`${hint}\nTried:\n${detail}`, { cause: attempts[attempts.length - 1]?.err });
  err.code = 'ERR_LLM_RELAY_NOT_BUILT';
  return err;
}

/**
 * Loads the addon. LLM_RELAY_NATIVE=/path/to/llm_relay.node loads that file
 * instead (tests run the suites once more against the prebuilt binary so).
 * @returns {object} the addon's exports
 */
function loadNative() {
  const forced = process.env.LLM_RELAY_NATIVE;
  if (forced) return require(path.resolve(forced));
  const attempts = [];
  for (const [where, load] of [
    ['build/Release', loadSourceBuild],
    [`prebuilds/${PREBUILT}`, loadPrebuilt],
  ]) {
    try {
      const native = load();
      if (native !== undefined) return native;
      attempts.push({ where, err: new Error('none for this platform') });
    } catch (err) {
      attempts.push({ where, err });
    }
  }
  throw notFoundError(attempts);
}

module.exports = { loadNative, looksBundled };

'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');

test('the addon exports only its Node-API entry points (everything else is hidden)', () => {
  const out = execFileSync('nm', ['-D', '--defined-only', path.join(root, 'build', 'Release', 'llm_relay.node')], {
    encoding: 'utf8',
  });
  const symbols = out
    .trim()
    .split('\n')
    .map((line) => line.split(' ').pop())
    .sort();
  expect(symbols).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
});

test("the addon links the GnuTLS flavour of libcurl, so it never binds to Node's OpenSSL", () => {
  const out = execFileSync('ldd', [path.join(root, 'build', 'Release', 'llm_relay.node')], { encoding: 'utf8' });
  expect(out).toMatch(/libcurl-gnutls\.so/);
  expect(out).not.toMatch(/libssl\.so/);
  expect(require('../..').__bench.curlVersion).toMatch(/GnuTLS.*nghttp2/);
});

test('a missing system library stops the build with one line naming the package to install', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-cmake-'));
  try {
    // Hide every system header and library from find_path/find_library.
    const result = spawnSync(
      'cmake',
      [
        '-S',
        root,
        '-B',
        dir,
        '-DCMAKE_FIND_ROOT_PATH=/nonexistent',
        '-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY',
        '-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY',
      ],
      { encoding: 'utf8' },
    );
    expect(result.status).not.toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.includes('llm-relay:'));
    // Exactly the line naming the package, then the one that stops CMake:
    // no repetition, no "Maximum recursion depth exceeded".
    expect(lines).toEqual([
      'llm-relay: RapidJSON not found. Install it: sudo apt-get install rapidjson-dev',
      '  llm-relay: missing build dependency (see the line above)',
    ]);
    expect(result.stderr).not.toMatch(/recursion/i);
    expect(result.stderr.split('\n').length).toBeLessThan(15);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

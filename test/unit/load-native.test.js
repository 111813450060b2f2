'use strict';

// lib/load-native.js: which addon loads, and what the error says when none
// does. Each case runs in a child process on a copy of lib/ laid out as the
// case needs (bundled into .next/, installed without a binary).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const dirs = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Copies lib/ to `<tmp>/<sub>/lib` and requires its binding.js there. */
function loadCopy(sub, { withPackageJson = false, env = {} } = {}) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-load-'));
  dirs.push(base);
  const pkg = path.join(base, sub);
  fs.cpSync(path.join(root, 'lib'), path.join(pkg, 'lib'), { recursive: true });
  if (withPackageJson) fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  const script = `
    try {
      const b = require(${JSON.stringify(path.join(pkg, 'lib', 'binding.js'))});
      console.log(JSON.stringify({ loaded: true, curl: b.native.curlVersion }));
    } catch (err) {
      console.log(JSON.stringify({ loaded: false, code: err.code, message: err.message }));
    }`;
  const out = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, LLM_RELAY_NATIVE: '', ...env },
  });
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout.trim());
}

test('bundled into a Next.js server build, the load error names serverExternalPackages, not apt-get', () => {
  const result = loadCopy(path.join('app', '.next', 'server', 'chunks'));
  expect(result.loaded).toBe(false);
  expect(result.code).toBe('ERR_LLM_RELAY_NOT_BUILT');
  expect(result.message).toContain("serverExternalPackages: ['llm-relay']");
  expect(result.message).not.toContain('apt-get');
});

test('a copy without its package.json (what bundlers emit) is recognised as bundled too', () => {
  const result = loadCopy(path.join('dist', 'server'));
  expect(result.loaded).toBe(false);
  expect(result.message).toContain('serverExternalPackages');
});

test('installed without any binary, the error says how to build from source and lists what was tried', () => {
  const result = loadCopy(path.join('node_modules', 'llm-relay'), { withPackageJson: true });
  expect(result.loaded).toBe(false);
  expect(result.code).toBe('ERR_LLM_RELAY_NOT_BUILT');
  expect(result.message).toContain('libcurl4-gnutls-dev');
  expect(result.message).toMatch(/Tried:\n {2}build\/Release: .*\n {2}prebuilds\/linux-x64: /);
});

test('LLM_RELAY_NATIVE loads the .node file it names', () => {
  const addon = path.join(root, 'build', 'Release', 'llm_relay.node');
  const result = loadCopy(path.join('elsewhere'), { env: { LLM_RELAY_NATIVE: addon } });
  expect(result.loaded).toBe(true);
  expect(result.curl).toMatch(/^libcurl\/\d/);
});

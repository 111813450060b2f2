'use strict';

// Which certificates HTTPS trusts without tls.ca. The prebuilt binary's
// static libcurl (mbedTLS) has no CA bundle: it takes Node's trust store
// (tls.getCACertificates('default'), or tls.rootCertificates plus
// NODE_EXTRA_CA_CERTS). A source build on the system's libcurl (GnuTLS)
// keeps the system's CA bundle. .ci/stages/prebuild.sh runs this file
// against the prebuilt binary too (LLM_RELAY_NATIVE).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startMockProvider } = require('../../lib/testing');
const binding = require('../../lib/binding');

const root = path.join(__dirname, '..', '..');
const bundled = binding.native.needsTrustStore === true;

function streamInChild(baseURL, env) {
  const script = `
    const { stream } = require(${JSON.stringify(root)});
    stream({ provider: 'openai', baseURL: process.argv[1], apiKey: 'k', retry: { attempts: 0 },
             body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } }).done.then(
      (r) => console.log(JSON.stringify({ text: r.text })),
      (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, baseURL], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

test("only the bundled mbedTLS libcurl asks for Node's trust store", () => {
  expect(binding.native.curlVersion).toMatch(bundled ? /mbedTLS/ : /GnuTLS/);
});

test('HTTPS without tls.ca: the prebuilt binary trusts NODE_EXTRA_CA_CERTS, the system build its CA bundle', async () => {
  const mock = await startMockProvider({ provider: 'openai', tls: true, script: { tokens: 'trusted' } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-relay-ca-'));
  try {
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, mock.ca);
    const withExtra = await streamInChild(mock.baseURL('openai'), { NODE_EXTRA_CA_CERTS: caFile });
    if (bundled) expect(withExtra).toEqual({ text: 'trusted' });
    else expect(withExtra.code).toBe('NETWORK'); // the system bundle does not have the test CA
    // Without it, the test CA is unknown to both: verification stays on.
    const without = await streamInChild(mock.baseURL('openai'), { NODE_EXTRA_CA_CERTS: '' });
    expect(without.code).toBe('NETWORK');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await mock.close();
  }
});

'use strict';

// Streams through an installed llm-relay the way an application would, in a
// bare Debian root (no compiler, no libcurl, no CA bundle: only the prebuilt
// binary can work there). Run by .ci/stages/install-bare-root.sh as
//   CERT_DIR=dir node smoke.js
// with CERT_DIR holding ca.pem, key.pem and cert.pem (made outside the root,
// which has no openssl). Prints one line per check; exits non-zero on the
// first failure.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { stream } = require('llm-relay');
const { startMockProvider } = require('llm-relay/testing');

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const certDir = process.env.CERT_DIR;
const tls = certDir && {
  ca: fs.readFileSync(path.join(certDir, 'ca.pem'), 'utf8'),
  key: fs.readFileSync(path.join(certDir, 'key.pem'), 'utf8'),
  cert: fs.readFileSync(path.join(certDir, 'cert.pem'), 'utf8'),
};

function ok(what) {
  console.log(`ok - ${what}`);
}

// `node smoke.js trust-store URL`: one HTTPS stream without tls.ca, in a
// child whose NODE_EXTRA_CA_CERTS decides whether the CA is trusted.
async function trustStoreChild(baseURL) {
  try {
    const result = await stream({ provider: 'openai', baseURL, apiKey: 'k', body, retry: { attempts: 0 } }).done;
    console.log(JSON.stringify({ text: result.text }));
  } catch (err) {
    console.log(JSON.stringify({ code: err.code, message: err.message }));
  }
}

async function main() {
  const binding = require.resolve('llm-relay/package.json');
  const prebuilt = path.join(path.dirname(binding), 'prebuilds', 'linux-x64', 'llm_relay.node');
  assert.ok(fs.existsSync(prebuilt), `the package has ${prebuilt}`);
  assert.ok(!fs.existsSync(path.join(path.dirname(binding), 'build', 'Release', 'llm_relay.node')), 'no source build');
  ok(`node ${process.version}: installed from the tarball, prebuilt binary present, no source build`);

  // 1. HTTP/1.1.
  const mock = await startMockProvider({ provider: 'openai', script: { tokens: 'Hello from the bare root' } });
  try {
    const result = await stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'k', body }).done;
    assert.equal(result.text, 'Hello from the bare root');
    ok('streams over HTTP');
  } finally {
    await mock.close();
  }

  // 2. HTTPS + HTTP/2 with a private CA given as tls.ca.
  const h2 = await startMockProvider({
    provider: 'openai',
    tls,
    http2: true,
    script: { tokens: 'h2 answer', delayMs: 2 },
  });
  try {
    const results = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          stream({ provider: 'openai', baseURL: h2.baseURL('openai'), apiKey: 'k', body, tls: { ca: tls.ca } }).done,
      ),
    );
    assert.ok(results.every((r) => r.text === 'h2 answer'));
    assert.ok(
      h2.requests.every((r) => r.httpVersion === '2.0'),
      'every request used HTTP/2',
    );
    ok('streams over HTTPS + HTTP/2 with tls.ca');
  } finally {
    await h2.close();
  }
  // 3. Node's trust store: trusted through NODE_EXTRA_CA_CERTS, refused without.
  await trustStoreChecks();

  // 4. A slow reader: the transfer pauses (the worker sleeps), then resumes.
  await slowReader();
}

// The children stream to this process's mock, so they are spawned
// asynchronously (spawnSync would block the mock).
async function trustStoreChecks() {
  const h2 = await startMockProvider({ provider: 'openai', tls, http2: true, script: { tokens: 'trusted' } });
  try {
    const run = (extra) =>
      new Promise((resolve, reject) => {
        const env = { ...process.env };
        delete env.NODE_EXTRA_CA_CERTS;
        if (extra) env.NODE_EXTRA_CA_CERTS = extra;
        const child = spawn(process.execPath, [__filename, 'trust-store', h2.baseURL('openai')], { env });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          if (code !== 0) return reject(new Error(`trust-store child exited ${code}: ${err}`));
          resolve(JSON.parse(out.trim().split('\n').pop()));
        });
      });
    const trusted = await run(path.join(certDir, 'ca.pem'));
    assert.deepEqual(trusted, { text: 'trusted' });
    ok("HTTPS verifies against Node's trust store (NODE_EXTRA_CA_CERTS), without tls.ca");
    const refused = await run(undefined);
    assert.equal(refused.code, 'NETWORK', JSON.stringify(refused));
    ok(`an unknown CA is refused: ${refused.message}`);
  } finally {
    await h2.close();
  }
}

async function slowReader() {
  const token = 'x'.repeat(1000);
  const count = 40000; // ~46 MB upstream: far more than the loopback buffers absorb (5-16 MB measured)
  const mock = await startMockProvider({
    provider: 'openai',
    script: { tokens: Array.from({ length: count }, () => token) },
  });
  try {
    const s = stream({
      provider: 'openai',
      baseURL: mock.baseURL('openai'),
      apiKey: 'k',
      body,
      timeouts: { idleMs: 0 },
    });
    const reader = s.getReader();
    const first = await reader.read();
    await new Promise((r) => setTimeout(r, 300));
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 1000));
    const cpu = process.cpuUsage(cpu0);
    const share = (cpu.user + cpu.system) / (Number(process.hrtime.bigint() - t0) / 1000);
    assert.ok(share < 0.3, `paused, the process used ${(share * 100).toFixed(0)}% of a core (a spinning worker?)`);
    assert.equal(mock.requests[0].completed, false, 'the upstream is paused, not drained into memory');
    let received = first.value.text.length;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.type === 'text') received += value.text.length;
    }
    assert.equal(received, count * token.length);
    ok(
      `a slow reader pauses the transfer (${(share * 100).toFixed(1)}% CPU while paused) and it resumes: all ${received} bytes`,
    );
  } finally {
    await mock.close();
  }
}

if (process.argv[2] === 'trust-store') {
  trustStoreChild(process.argv[3]);
} else {
  main().then(
    () => ok('all checks passed'),
    (err) => {
      console.error(`not ok - ${err.stack || err}`);
      process.exit(1);
    },
  );
}

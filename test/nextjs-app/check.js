'use strict';

// Drives the Next.js 16 app of this directory as a user would, after
// `next build`: `next start` on a free port, the route handler streaming from
// the mock provider, the page (useChat from @ai-sdk/react) in headless
// Chromium. Checks the answer is rendered exactly, and that Stop closes the
// provider request (seen on the mock's side). Run by .ci/stages/nextjs.sh;
// prints one line per check and exits non-zero on the first failure.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const net = require('node:net');
const { startMockProvider } = require('../../lib/testing');
const { launchChromium } = require('../helpers/chromium');

const APP = __dirname;
const ANSWER = 'Hello from Next.js 16, relayed by llm-relay to useChat.';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const mock = await startMockProvider({
    provider: 'openai',
    script: [
      { tokens: ANSWER, delayMs: 20 },
      // For Stop: a long, slow answer that is still streaming when the user stops it.
      { tokens: Array.from({ length: 600 }, (_, i) => `word${i} `), delayMs: 50 },
    ],
  });
  const port = await freePort();
  const next = spawn(
    process.execPath,
    [require.resolve('next/dist/bin/next', { paths: [APP] }), 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: APP,
      env: {
        ...process.env,
        OPENAI_BASE_URL: mock.baseURL('openai'),
        OPENAI_API_KEY: 'test-key',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // A timeout (SIGTERM from .ci/stages/nextjs.sh) must not leave next start running.
  const killNext = () => next.kill('SIGKILL');
  process.once('exit', killNext);
  process.once('SIGTERM', () => process.exit(1));
  let serverLog = '';
  next.stdout.on('data', (d) => {
    serverLog += d;
  });
  next.stderr.on('data', (d) => {
    serverLog += d;
  });
  let browser;
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(
      'next start answers',
      () =>
        fetch(origin).then(
          (r) => r.ok,
          () => false,
        ),
      30000,
    );
    console.log(`ok - next start serves ${origin}`);

    browser = await launchChromium();
    const page = await browser.context.newPage();
    await page.goto(origin, { waitUntil: 'networkidle' });

    // 1. The answer, rendered exactly.
    await page.fill('#prompt', 'Say hello');
    await page.click('#send');
    await page.waitForFunction(
      () =>
        document.querySelector('#status')?.textContent === 'ready' &&
        document.querySelectorAll('#messages li[data-role="assistant"]').length === 1,
      null,
      { timeout: 30000 },
    );
    const rendered = await page.textContent('#messages li[data-role="assistant"]');
    assert.equal(rendered, ANSWER);
    assert.equal(mock.requests[0].completed, true);
    assert.deepEqual(mock.requests[0].body.messages, [{ role: 'user', content: 'Say hello' }]);
    console.log(`ok - useChat renders the answer exactly: ${JSON.stringify(rendered)}`);

    // 2. Stop while streaming: the provider request is closed.
    await page.fill('#prompt', 'Tell me a long story');
    await page.click('#send');
    await page.waitForFunction(
      () => /word3 /.test(document.querySelectorAll('#messages li[data-role="assistant"]')[1]?.textContent || ''),
      null,
      { timeout: 30000 },
    );
    const stoppedAt = Date.now();
    await page.click('#stop');
    const upstream = await waitFor(
      'the mock sees the second request close',
      () => mock.requests[1]?.closedAt !== undefined && mock.requests[1],
      10000,
    );
    assert.equal(upstream.completed, false, 'the provider had not finished: the stop cut it short');
    assert.equal(upstream.endedByClient, true);
    const partial = (
      await page.$$eval('#messages li[data-role="assistant"]', (items) => items.map((li) => li.textContent))
    )[1];
    console.log(
      `ok - Stop closes the provider request ${upstream.closedAt - stoppedAt} ms after the click (${partial.length} characters shown)`,
    );
  } catch (err) {
    console.error(`--- next start output ---\n${serverLog.slice(-4000)}`);
    throw err;
  } finally {
    if (browser) await browser.close();
    next.kill('SIGTERM');
    await new Promise((r) => (next.exitCode !== null ? r() : next.once('exit', r)));
    await mock.close();
  }
}

main().then(
  () => console.log('ok - all checks passed'),
  (err) => {
    console.error(`not ok - ${err.stack || err}`);
    process.exit(1);
  },
);

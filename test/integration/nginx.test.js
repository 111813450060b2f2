'use strict';

// A real nginx (Debian's package; .ci/run installs it) with examples/nginx.conf in front of an
// Express app that relays a paced mock provider. Checks what a user would see: tokens arrive while
// they are produced, not at the end, and a client that leaves stops the provider request.
//
// What the control shows: nginx 1.22 in buffered mode (proxy_buffering on, the default) passes on
// what it reads, but an output filter such as gzip then holds it until the response ends. The
// relay's "X-Accel-Buffering: no" switches the response to unbuffered mode, where nginx flushes
// every upstream read through the filters. The control route writes the same SSE frames at the
// same pace without that header.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const express = require('express');
const { stream } = require('llm-relay');
const { startMockProvider } = require('llm-relay/testing');
const { startNginx } = require('../helpers/nginx');
const { settlesWithin } = require('../helpers/time');

const EXAMPLE = fs.readFileSync(path.join(__dirname, '../../examples/nginx.conf'), 'utf8');
const TOKENS = Array.from({ length: 20 }, (_, i) => `tok${i} `);
const PACE_MS = 100; // 20 tokens × 100 ms: the last token is produced about 2 s after the first

// A site that compresses event streams, as many production http {} blocks do: the streaming
// location of the example with its "gzip off;" turned into gzip for text/event-stream.
function gzipSite() {
  if (!EXAMPLE.includes('gzip off;'))
    throw new Error('examples/nginx.conf no longer has "gzip off;" in its streaming location');
  return EXAMPLE.replace('gzip off;', 'gzip on; gzip_types text/event-stream;');
}

/** Tokens arrived while they were produced: the first soon, the rest spread over the answer. */
function expectLive(arrivals) {
  const times = arrivals.map((a) => Math.round(a.ms));
  const first = times[0];
  const spread = times[times.length - 1] - first;
  if (!(first < 1000 && spread > 1500)) {
    throw new Error(
      `Expected the first token within 1000 ms and the rest spread over more than 1500 ms; arrivals (ms): ${times.join(', ')}`,
    );
  }
}

/**
 * POSTs a chat through `origin` and records when each text token arrives (ms after the request).
 * With `gzip`, asks for gzip and decodes incrementally, as a browser does.
 * `onToken(count, req)` may destroy the request to play a user who leaves.
 */
function timedChat(origin, pathname, { gzip = false, onToken } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const arrivals = [];
    let text = '';
    const req = http.request(`${origin}${pathname}`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', ...(gzip ? { 'accept-encoding': 'gzip' } : {}) },
    });
    req.on('error', (err) => (arrivals.length > 0 ? resolve({ arrivals, headers: {}, aborted: true }) : reject(err)));
    req.on('response', (res) => {
      let body = res;
      if (res.headers['content-encoding'] === 'gzip') {
        body = res.pipe(zlib.createGunzip());
        body.on('error', reject);
      }
      body.setEncoding('utf8');
      body.on('data', (chunk) => {
        text += chunk;
        let end;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const event = text.slice(0, end);
          text = text.slice(end + 2);
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (!data || data === 'data: [DONE]') continue;
          const delta = JSON.parse(data.slice(6));
          if (delta.type !== 'text') continue;
          arrivals.push({ ms: performance.now() - started, text: delta.text });
          if (onToken) onToken(arrivals.length, req);
        }
      });
      body.on('end', () => resolve({ arrivals, headers: res.headers, aborted: false }));
      // A destroyed request ends here instead (resolve is a no-op after 'end').
      res.on('error', () => {});
      res.on('close', () => {
        if (!res.complete) resolve({ arrivals, headers: res.headers, aborted: true });
      });
    });
    req.end(JSON.stringify({ messages: [{ role: 'user', content: 'Count to twenty.' }] }));
  });
}

describe('nginx in front of the relay (examples/nginx.conf)', () => {
  let mock;
  let app;
  let shipped;
  let compressing;
  const relays = []; // the outcome of every s.pipe(res), in arrival order

  beforeAll(async () => {
    mock = await startMockProvider({ provider: 'openai', script: { tokens: TOKENS, ttftMs: 50, delayMs: PACE_MS } });

    const router = express();
    router.post('/api/chat', express.json(), async (req, res) => {
      const s = stream({
        provider: 'openai',
        baseURL: mock.baseURL('openai'),
        apiKey: 'test-key',
        body: { model: 'gpt-4o-mini', messages: req.body.messages },
      });
      const outcome = s.pipe(res).then(
        () => 'completed',
        (err) => err.code,
      );
      relays.push(outcome);
      await outcome;
    });
    // The control: the relay's frames at the relay's pace, but without X-Accel-Buffering.
    router.post('/api/chat/unflagged', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      let i = 0;
      const timer = setInterval(() => {
        res.write(`data: ${JSON.stringify({ type: 'text', text: TOKENS[i] })}\n\n`);
        if (++i === TOKENS.length) {
          clearInterval(timer);
          res.end('data: {"type":"finish","reason":"stop"}\n\ndata: [DONE]\n\n');
        }
      }, PACE_MS);
      res.on('close', () => clearInterval(timer));
    });
    app = http.createServer(router);
    await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = app.address().port;

    shipped = await startNginx({ siteConfig: EXAMPLE, appPort });
    compressing = await startNginx({ siteConfig: gzipSite(), appPort });
  });

  afterAll(async () => {
    // Always kill nginx, whatever failed before.
    await Promise.allSettled([shipped && shipped.stop(), compressing && compressing.stop()]);
    if (app) {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
    if (mock) await mock.close();
  });

  test('the first token arrives through nginx long before the last one is produced', async () => {
    const { arrivals, headers } = await timedChat(shipped.origin, '/api/chat');
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(arrivals.map((a) => a.text)).toEqual(TOKENS);
    expectLive(arrivals);
    // Not a burst at either end: tokens keep arriving across the whole answer.
    const distinctTenths = new Set(arrivals.map((a) => Math.floor(a.ms / 100)));
    expect(distinctTenths.size).toBeGreaterThanOrEqual(12);
  });

  test('with gzip off in the streaming location even a response without X-Accel-Buffering streams', async () => {
    const { arrivals } = await timedChat(shipped.origin, '/api/chat/unflagged', { gzip: true });
    expect(arrivals).toHaveLength(TOKENS.length);
    expectLive(arrivals);
  });

  test('where nginx compresses event streams, X-Accel-Buffering: no keeps tokens flowing and the control arrives only at the end', async () => {
    const relay = await timedChat(compressing.origin, '/api/chat', { gzip: true });
    expect(relay.headers['content-encoding']).toBe('gzip');
    expect(relay.arrivals.map((a) => a.text)).toEqual(TOKENS);
    expectLive(relay.arrivals);

    const control = await timedChat(compressing.origin, '/api/chat/unflagged', { gzip: true });
    expect(control.headers['content-encoding']).toBe('gzip');
    expect(control.arrivals.map((a) => a.text)).toEqual(TOKENS);
    // Held back: nothing until the upstream finished (~2 s), then everything at once.
    expect(control.arrivals[0].ms).toBeGreaterThan(TOKENS.length * PACE_MS - 300);
    expect(control.arrivals[control.arrivals.length - 1].ms - control.arrivals[0].ms).toBeLessThan(100);
  });

  test('a client that leaves mid-answer makes nginx close the app connection and the relay close the provider request', async () => {
    const before = mock.requests.length;
    const relaysBefore = relays.length;
    const { arrivals, aborted } = await timedChat(shipped.origin, '/api/chat', {
      onToken: (count, req) => {
        if (count === 3) req.destroy();
      },
    });
    expect(aborted).toBe(true);
    expect(arrivals.length).toBeLessThan(TOKENS.length);
    const [record] = (await mock.waitForRequests(before + 1)).slice(before);
    expect(await settlesWithin(record.closed, 2000)).toBe(true);
    expect(record.endedByClient).toBe(true);
    expect(record.completed).toBe(false);
    expect(relays).toHaveLength(relaysBefore + 1);
    await expect(relays[relaysBefore]).resolves.toBe('ABORTED');
  });
});

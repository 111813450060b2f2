'use strict';

const net = require('node:net');
const { stream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
let mock;
let current = {};

beforeAll(async () => {
  mock = await startMockProvider({ provider: 'openai', script: (req, n) => (typeof current === 'function' ? current(req, n) : current) });
});
afterAll(() => mock.close());

function openai(script, extra = {}) {
  current = script;
  return stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'sk-secret-key-123', body, ...extra });
}

async function failure(s) {
  try {
    for await (const d of s) void d;
  } catch (err) {
    return err;
  }
  throw new Error('the stream did not fail');
}

function lastRequest() {
  return mock.requests[mock.requests.length - 1];
}

async function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('abort', () => {
  test('a signal aborted before start sends no request at all', async () => {
    const before = mock.requests.length;
    const controller = new AbortController();
    const reason = new Error('user left');
    controller.abort(reason);
    const s = openai({ tokens: 'never' }, { signal: controller.signal });
    const err = await failure(s);
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ code: 'ABORTED', name: 'AbortError', cause: reason });
    await expect(s.done).rejects.toBe(err);
    await new Promise((r) => setTimeout(r, 50));
    expect(mock.requests.length).toBe(before);
  });

  test('aborting mid-stream closes the upstream connection within 100 ms and keeps the partial answer', async () => {
    const controller = new AbortController();
    const s = openai({ tokens: Array.from({ length: 100 }, (_, i) => `t${i} `), delayMs: 20 }, { signal: controller.signal });
    const reader = s.getReader();
    const first = await reader.read();
    expect(first.value.type).toBe('text');
    const req = lastRequest();
    const t0 = Date.now();
    controller.abort(new Error('stop'));
    await expect(reader.read()).rejects.toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    await within(req.closed, 100, 'upstream close');
    expect(Date.now() - t0).toBeLessThan(100);
    expect(req.endedByClient).toBe(true);
    const err = await s.done.catch((e) => e);
    expect(err.code).toBe('ABORTED');
    expect(err.partial.text.startsWith('t0 ')).toBe(true);
    expect(err.partial.metrics.outcome).toBe('aborted');
  });

  test('breaking out of for await aborts the upstream request', async () => {
    const s = openai({ tokens: Array.from({ length: 100 }, (_, i) => `w${i} `), delayMs: 20 });
    for await (const d of s) {
      if (d.type === 'text') break;
    }
    await within(lastRequest().closed, 200, 'upstream close');
    await expect(s.done).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('timeouts', () => {
  test('connectMs: a server that never completes the TLS handshake gives TIMEOUT_CONNECT', async () => {
    const sockets = new Set();
    const server = net.createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const s = stream({
        provider: 'openai', baseURL: `https://127.0.0.1:${server.address().port}/v1`, apiKey: 'k', body,
        timeouts: { connectMs: 200 }, retry: false,
      });
      const t0 = Date.now();
      const err = await failure(s);
      expect(err.code).toBe('TIMEOUT_CONNECT');
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  test('firstByteMs: a provider that accepts but never answers gives TIMEOUT_FIRST_BYTE', async () => {
    const err = await failure(openai({ hang: true }, { timeouts: { firstByteMs: 150 } }));
    expect(err.code).toBe('TIMEOUT_FIRST_BYTE');
    await within(lastRequest().closed, 200, 'upstream close');
  });

  test('idleMs: pings and comments do not keep a stalled stream alive', async () => {
    const s = openai({ tokens: 'a b c d e f', stallAfter: 2, pingEveryMs: 20 }, { timeouts: { idleMs: 250 } });
    const t0 = Date.now();
    const err = await failure(s);
    expect(err.code).toBe('TIMEOUT_IDLE');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    expect(err.partial.text).toBe('a b');
    expect(err.partial.metrics.outcome).toBe('timeout');
  });

  test('totalMs bounds the whole stream', async () => {
    const err = await failure(openai({ tokens: Array.from({ length: 50 }, () => 'x'), delayMs: 30 }, { timeouts: { totalMs: 200 } }));
    expect(err.code).toBe('TIMEOUT_TOTAL');
  });
});

describe('errors', () => {
  test('an HTTP error reads the provider message and Retry-After, and never shows the API key', async () => {
    const err = await failure(openai({ status: 429, headers: { 'retry-after': '20' } }, { retry: false }));
    expect(err).toBeInstanceOf(RelayError);
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(20000);
    expect(err.provider).toBe('openai');
    expect(err.message).toMatch(/^openai answered HTTP 429: .+/);
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain('sk-secret-key-123');
  });

  test('a 429 then a 200 is retried, honouring Retry-After, and counted', async () => {
    let n = 0;
    const s = openai(() => (n++ === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { tokens: 'second try' }), {
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 5000 },
    });
    const t0 = Date.now();
    const done = await s.done;
    expect(done.text).toBe('second try');
    expect(done.metrics.retries).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // waited the Retry-After second
  });

  test('a Retry-After longer than maxDelayMs is not waited for: the caller gets the error', async () => {
    const err = await failure(openai({ status: 503, headers: { 'retry-after': '60' } }, { retry: { maxDelayMs: 1000 } }));
    expect(err).toMatchObject({ code: 'HTTP_STATUS', status: 503, retryAfterMs: 60000 });
    expect(err.partial.metrics.retries).toBe(0);
  });

  test('a 401 is not retried', async () => {
    const before = mock.requests.length;
    const err = await failure(openai({ status: 401 }));
    expect(err).toMatchObject({ code: 'HTTP_STATUS', status: 401 });
    expect(mock.requests.length - before).toBe(1);
  });

  test('a connection reset before any content is retried; after content it is NETWORK', async () => {
    const err = await failure(openai({ tokens: 'a b c d', resetAfter: 2 }, { retry: false }));
    expect(err.code).toBe('NETWORK');
    expect(err.partial.text).toBe('a b');
  });

  test('a stream cut without [DONE] is TRUNCATED and keeps what arrived', async () => {
    const err = await failure(openai({ tokens: 'cut short', omitEndMarker: true }));
    expect(err.code).toBe('TRUNCATED');
    expect(err.partial.text).toBe('cut short');
  });

  test('an event larger than maxEventBytes gives LIMIT', async () => {
    const err = await failure(openai({ tokens: ['x'.repeat(5000)] }, { maxEventBytes: 2048 }));
    expect(err.code).toBe('LIMIT');
  });

  test('a connection refused is NETWORK after the retries', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = server.address().port;
    await new Promise((r) => server.close(r));
    const s = stream({ provider: 'openai', baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', body, retry: { attempts: 1, baseDelayMs: 10 } });
    const err = await failure(s);
    expect(err.code).toBe('NETWORK');
    expect(err.partial.metrics.retries).toBe(1);
  });
});

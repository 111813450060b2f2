'use strict';

// Lifecycle faults: aborts (before start, mid-stream, a thousand racing the
// worker), a Worker terminated and a process exiting with streams in flight,
// consumers chosen too late, and what an error carries when the reader sees
// it (issue 9, items 6, 11). Listed in docs/faults.md.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { stream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');
const { body, failure, within, sleep } = require('./helpers');

let mock;
let current = {};
beforeAll(async () => {
  mock = await startMockProvider({ script: (req, n) => (typeof current === 'function' ? current(req, n) : current) });
});
afterAll(() => mock.close());

function on(provider, script, extra = {}) {
  current = script;
  return stream({
    provider,
    baseURL: mock.baseURL(provider),
    apiKey: 'sk-test',
    body: { ...body, model: 'm' },
    retry: false,
    ...extra,
  });
}

/** A node:http server whose handler gets (req, res); returns { url, close }. */
async function server(handler) {
  const srv = http.createServer(handler);
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/`,
    close: () => {
      srv.closeAllConnections();
      return new Promise((r) => srv.close(r));
    },
  };
}

function lastRequest() {
  return mock.requests[mock.requests.length - 1];
}

describe('abort', () => {
  test('a signal aborted before start sends no request at all', async () => {
    const before = mock.requests.length;
    const controller = new AbortController();
    const reason = new Error('user left');
    controller.abort(reason);
    const s = on('openai', { tokens: 'never' }, { signal: controller.signal });
    const err = await s
      .getReader()
      .read()
      .catch((e) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ code: 'ABORTED', name: 'AbortError', cause: reason });
    await expect(s.done).rejects.toBe(err);
    await sleep(50);
    expect(mock.requests.length).toBe(before);
  });

  test('aborting mid-stream closes the upstream connection within 100 ms and keeps the partial answer', async () => {
    const controller = new AbortController();
    const s = on(
      'openai',
      { tokens: Array.from({ length: 100 }, (_, i) => `t${i} `), delayMs: 20 },
      { signal: controller.signal },
    );
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
    const s = on('openai', { tokens: Array.from({ length: 100 }, (_, i) => `w${i} `), delayMs: 20 });
    for await (const d of s) {
      if (d.type === 'text') break;
    }
    await within(lastRequest().closed, 200, 'upstream close');
    await expect(s.done).rejects.toMatchObject({ code: 'ABORTED' });
  });

  test('1,000 aborts racing the worker: each stream ends ABORTED with partial, no descriptor is left', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    // The engine (worker thread, its loop and curl's descriptors) exists
    // from the first stream on: measure after one.
    await on('openai', { tokens: 'warm' }).done;
    const baseline = fds();
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    // Its own mock: on a loaded machine it accepts the aborted connections
    // long after the streams ended, which must not slow the other tests.
    const racing = await startMockProvider({
      provider: 'openai',
      script: { tokens: Array.from({ length: 40 }, () => 'r '), delayMs: 10 },
    });
    try {
      const runs = Array.from({ length: 1000 }, (_, i) => {
        const s = stream({
          provider: 'openai',
          baseURL: racing.baseURL('openai'),
          apiKey: 'sk-test',
          body,
          retry: false,
        });
        const when = i % 5;
        if (when === 0)
          s.abort(); // before the worker saw the start
        else if (when === 1) queueMicrotask(() => s.abort());
        else if (when === 2) setImmediate(() => s.abort());
        else setTimeout(() => s.abort(), (i * 7) % 60); // mid-stream, at spread times
        // Half are read, half only awaited: both paths race the end record.
        if (i % 2 === 0) return failure(s);
        return s.done.then(
          () => new Error('completed'),
          (e) => e,
        );
      });
      const errors = await within(Promise.all(runs), 20000, 'every stream ending');
      expect(errors.filter((e) => e.code !== 'ABORTED')).toEqual([]);
      expect(errors.every((e) => e.partial !== undefined && e.partial.metrics.outcome === 'aborted')).toBe(true);
      // What the mock has seen so far was cut by the client, never completed.
      expect(racing.requests.filter((r) => r.completed)).toEqual([]);
    } finally {
      await racing.close();
      process.off('unhandledRejection', onUnhandled);
    }
    // Every upstream socket is closed: descriptors go back to where they
    // were (aborted connections are never reused; give the kernel a moment).
    const deadline = Date.now() + 3000;
    while (fds() > baseline + 2 && Date.now() < deadline) await sleep(50);
    expect(fds()).toBeLessThanOrEqual(baseline + 2);
    expect(unhandled).toEqual([]);
  }, 30000);
});

describe('teardown with streams in flight', () => {
  test('a Worker terminated mid-stream closes its upstream connection', async () => {
    current = { tokens: Array.from({ length: 200 }, () => 'w '), delayMs: 20 };
    const before = mock.requests.length;
    const worker = new Worker(path.join(__dirname, '..', 'helpers', 'stream-worker.js'), {
      workerData: { baseURL: mock.baseURL('openai'), hold: true },
    });
    await within(new Promise((r) => worker.once('message', r)), 5000, 'the first delta in the worker');
    expect(await worker.terminate()).toBe(1);
    const [req] = mock.requests.slice(before);
    await within(req.closed, 1000, 'the upstream connection closing');
    expect(req.endedByClient).toBe(true);
    expect(req.completed).not.toBe(true);
  });

  test('process.exit with 20 streams in flight exits at once and closes every upstream connection', async () => {
    current = { tokens: Array.from({ length: 200 }, () => 'e '), delayMs: 20 };
    const before = mock.requests.length;
    const script = `
      const { stream } = require(${JSON.stringify(path.join(__dirname, '..', '..'))});
      const reads = Array.from({ length: 20 }, () =>
        stream({ provider: 'openai', baseURL: ${JSON.stringify(mock.baseURL('openai'))}, apiKey: 'k', body: { model: 'm', messages: [] } })
          .getReader().read());
      Promise.all(reads).then(() => { console.log('reading'); process.exit(0); });`;
    const t0 = Date.now();
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await within(new Promise((r) => child.once('exit', r)), 5000, 'the child exiting');
    expect(code).toBe(0);
    expect(out.trim()).toBe('reading');
    expect(Date.now() - t0).toBeLessThan(4000);
    const reqs = mock.requests.slice(before);
    expect(reqs).toHaveLength(20);
    await within(Promise.all(reqs.map((r) => r.closed)), 1000, 'every upstream connection closing');
    expect(reqs.every((r) => r.endedByClient)).toBe(true);
  });
});

describe('a relay after await done (issue 9 item 6)', () => {
  test('pipe() after the summary was drained throws INVALID_ARGUMENT and leaves res untouched', async () => {
    const s = on('openai', { tokens: 'the whole answer' });
    expect((await s.done).text).toBe('the whole answer');
    let thrown;
    const srv = await server((req, res) => {
      try {
        s.pipe(res);
      } catch (err) {
        thrown = err;
      }
      if (!res.headersSent) res.end('untouched');
    });
    try {
      const res = await fetch(srv.url);
      expect(await res.text()).toBe('untouched');
      expect(thrown).toBeInstanceOf(RelayError);
      expect(thrown.code).toBe('INVALID_ARGUMENT');
      expect(thrown.message).toMatch(/already consumed: awaiting done drained it/);
    } finally {
      await srv.close();
    }
  });

  test('toResponse() after the summary was drained throws INVALID_ARGUMENT instead of an empty 200', async () => {
    const s = on('openai', { tokens: 'drained' });
    await s.done;
    expect(() => s.toResponse()).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/already consumed: awaiting done drained it/),
      }),
    );
  });

  test('pipe() while done is still draining says so too', async () => {
    const s = on('openai', { tokens: 'a b c d e', delayMs: 20 });
    const done = s.done;
    await sleep(10); // the next macrotask: done chose to drain
    expect(() => s.toResponse()).toThrow(/already consumed: awaiting done drained it/);
    await done;
  });

  test('a stream that failed before anyone consumed it still relays its error', async () => {
    const s = on('openai', { status: 401 });
    const err = await s.done.catch((e) => e);
    expect(err.code).toBe('HTTP_STATUS');
    const res = s.toResponse();
    const text = await res.text();
    // The format's own error event, as for a failure after the 200.
    expect(text).toBe(
      'event: error\ndata: {"code":"HTTP_STATUS","message":"The provider answered HTTP 401","status":401}\n\n',
    );
  });
});

describe('partial is set before the error is delivered (issue 9 item 11)', () => {
  test('an abort in for await: the caught error already has partial', async () => {
    const s = on('openai', { tokens: Array.from({ length: 100 }, (_, i) => `p${i} `), delayMs: 10 });
    let caught;
    try {
      for await (const d of s) {
        if (d.type === 'text') s.abort(new Error('enough'));
      }
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    expect(caught.partial).toBeDefined();
    expect(caught.partial.text.startsWith('p0 ')).toBe(true);
    expect(caught.partial.metrics.outcome).toBe('aborted');
    await expect(s.done).rejects.toBe(caught);
  });

  test('an abort signal while the reader waits: the rejected read carries partial', async () => {
    const controller = new AbortController();
    const s = on('openai', { tokens: 'one two', stallAfter: 1 }, { signal: controller.signal });
    const reader = s.getReader();
    expect((await reader.read()).value.text).toBe('one');
    const pending = reader.read();
    controller.abort();
    const err = await pending.catch((e) => e);
    expect(err.code).toBe('ABORTED');
    expect(err.partial.text).toBe('one');
  });

  test('an aborted Anthropic stream keeps the input tokens message_start reported', async () => {
    const s = on('anthropic', { tokens: 'x y z', stallAfter: 1, usage: { inputTokens: 42 } });
    const reader = s.getReader();
    await reader.read();
    s.abort();
    const err = await reader.read().catch((e) => e);
    expect(err.partial.usage).toMatchObject({ inputTokens: 42, outputTokens: null });
    expect(err.partial.usage.raw).toMatchObject({ input_tokens: 42 });
  });

  test('an aborted Gemini stream keeps the usage its chunks reported so far', async () => {
    current = { tokens: 'g h i', stallAfter: 2, usage: { inputTokens: 7 } };
    const s = stream({
      provider: 'gemini',
      baseURL: mock.baseURL('gemini'),
      apiKey: 'sk-test',
      model: 'gemini-2.5-flash',
      body: { contents: [] },
      retry: false,
    });
    const reader = s.getReader();
    // Both chunks (and their usageMetadata) arrived: fragments of one read
    // may come merged into one delta.
    let text = '';
    while (text !== 'g h') text += (await reader.read()).value.text;
    s.abort();
    const err = await reader.read().catch((e) => e);
    expect(err.partial.usage).toMatchObject({ inputTokens: 7 });
  });

  test('a timeout mid-stream keeps the usage reported so far', async () => {
    const s = on(
      'anthropic',
      { tokens: 'x y z', stallAfter: 1, usage: { inputTokens: 9 } },
      { timeouts: { idleMs: 150 } },
    );
    const err = await within(
      s.done.catch((e) => e),
      3000,
      'the idle timeout',
    );
    expect(err.code).toBe('TIMEOUT_IDLE');
    expect(err.partial.usage).toMatchObject({ inputTokens: 9 });
  });
});

describe('a process whose only work is a stream', () => {
  // A stream that fails (or completes) before its consumer is chosen parks:
  // it stops keeping the process alive until a consumer comes. Awaiting
  // `done` chooses one a moment later; the process must then stay alive
  // until the end arrives, however the two cross between the threads.
  test('stays alive until done settles, also when the stream failed before done chose its consumer', async () => {
    const { spawn } = require('node:child_process');
    // An HTTPS provider whose certificate nobody trusts: the handshake fails
    // after a few milliseconds, about when done chooses its consumer.
    const mock = await startMockProvider({ provider: 'openai', tls: true, script: { tokens: 'x' } });
    const script = `
      const { stream } = require(${JSON.stringify(require.resolve('../..'))});
      stream({ provider: 'openai', baseURL: process.argv[1], apiKey: 'k', retry: false, body: {} }).done.then(
        () => console.log('resolved'),
        (e) => console.log(e.code));`;
    const run = () =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', script, mock.baseURL('openai')], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('exit', (code) => resolve({ code, out: out.trim() }));
      });
    // One at a time: the race needs a handshake that fails fast.
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await run());
    await mock.close();
    expect(results.filter((r) => r.out !== 'NETWORK')).toEqual([]);
  }, 60_000);
});

'use strict';

// Lifecycle faults: consumers chosen too late, aborts racing the worker,
// and what an error carries when the reader sees it (issue 9, items 6, 11).

const http = require('node:http');
const { stream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');
const { body, within, sleep } = require('./helpers');

let mock;
let current = {};
beforeAll(async () => {
  mock = await startMockProvider({ script: (req, n) => (typeof current === 'function' ? current(req, n) : current) });
});
afterAll(() => mock.close());

function on(provider, script, extra = {}) {
  current = script;
  return stream({ provider, baseURL: mock.baseURL(provider), apiKey: 'sk-test', body: { ...body, model: 'm' }, retry: false, ...extra });
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
    expect(() => s.toResponse()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/already consumed: awaiting done drained it/) }));
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
    const text = await res.text().catch((e) => `body errored: ${e.code}`);
    expect(text).toBe('body errored: HTTP_STATUS');
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
    const s = stream({ provider: 'gemini', baseURL: mock.baseURL('gemini'), apiKey: 'sk-test', model: 'gemini-2.5-flash', body: { contents: [] }, retry: false });
    const reader = s.getReader();
    await reader.read();
    await reader.read();
    s.abort();
    const err = await reader.read().catch((e) => e);
    expect(err.partial.usage).toMatchObject({ inputTokens: 7 });
  });

  test('a timeout mid-stream keeps the usage reported so far', async () => {
    const s = on('anthropic', { tokens: 'x y z', stallAfter: 1, usage: { inputTokens: 9 } }, { timeouts: { idleMs: 150 } });
    const err = await within(s.done.catch((e) => e), 3000, 'the idle timeout');
    expect(err.code).toBe('TIMEOUT_IDLE');
    expect(err.partial.usage).toMatchObject({ inputTokens: 9 });
  });
});

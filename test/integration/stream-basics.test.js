'use strict';

const { stream, LLMStream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
let mock;
let current = {};

beforeAll(async () => {
  mock = await startMockProvider({ provider: 'openai', script: () => current });
});
afterAll(() => mock.close());

function openai(script, extra = {}) {
  current = script;
  return stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'sk-test', body, ...extra });
}

describe('stream()', () => {
  test('returns an LLMStream that is a web ReadableStream, synchronously', () => {
    const s = stream({ provider: 'openai', baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k', body, retry: false });
    expect(s).toBeInstanceOf(LLMStream);
    expect(s).toBeInstanceOf(ReadableStream);
    s.abort();
    return expect(s.done).rejects.toMatchObject({ code: 'ABORTED' });
  });

  test('the request goes out at once, before anyone reads or pipes the stream', async () => {
    const before = mock.requests.length;
    const s = openai({ tokens: ['early'] });
    // Nothing touches `s` until the provider has the request.
    const requests = await mock.waitForRequests(before + 1, 5000);
    expect(requests[before].body.messages).toEqual(body.messages);
    expect((await s.done).text).toBe('early');
  });

  test('fragments that arrive in one read reach the reader as one text delta', async () => {
    const tokens = Array.from({ length: 200 }, (_, i) => `t${i} `);
    const s = openai({ tokens, eventsPerWrite: 200 });
    const texts = [];
    for await (const d of s) if (d.type === 'text') texts.push(d.text);
    expect(texts.join('')).toBe(tokens.join(''));
    expect(texts.length).toBeLessThan(20);
    expect((await s.done).metrics.deltas).toBe(200);
  });

  test('for await yields text deltas that reassemble the answer exactly, even in 1-byte reads', async () => {
    const tokens = ['Hé', 'llo', ' 世界', ' 🚀', ' e\u0301', ' "quoted"\n', ' \\ end'];
    const s = openai({ tokens, chunkSize: 1 });
    let text = '';
    const types = new Set();
    for await (const d of s) {
      types.add(d.type);
      if (d.type === 'text') text += d.text;
    }
    expect(text).toBe(tokens.join(''));
    expect(types).toEqual(new Set(['text', 'finish', 'usage']));
    const done = await s.done;
    expect(done.text).toBe(tokens.join(''));
    expect(done.finishReason).toBe('stop');
    expect(done.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    expect(done.metrics).toMatchObject({ outcome: 'completed', deltas: tokens.length, retries: 0 });
    expect(done.metrics.ttftMs).toBeGreaterThan(0);
  });

  test('asks OpenAI for the usage chunk and the stream, and sends the key as a bearer token', async () => {
    const s = openai({ tokens: 'a b' });
    await s.done;
    const req = mock.requests[mock.requests.length - 1];
    expect(req.body.stream).toBe(true);
    expect(req.body.stream_options).toEqual({ include_usage: true });
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.path).toBe('/v1/chat/completions');
  });

  test('textStream yields only the text', async () => {
    const s = openai({ tokens: ['one', ' two', ' three'] });
    const parts = [];
    for await (const t of s.textStream) parts.push(t);
    // Fragments that arrive in one batch may be merged; the text is exact.
    expect(parts.every((p) => typeof p === 'string' && p.length > 0)).toBe(true);
    expect(parts.join('')).toBe('one two three');
  });

  test('a reader that starts after the whole answer arrived still gets every delta', async () => {
    const s = openai({ tokens: ['late', ' but', ' whole'] });
    await new Promise((r) => setTimeout(r, 150)); // the provider finished meanwhile
    const deltas = [];
    for await (const d of s) deltas.push(d);
    expect(
      deltas
        .filter((d) => d.type === 'text')
        .map((d) => d.text)
        .join(''),
    ).toBe('late but whole');
    expect(deltas.map((d) => d.type)).toContain('finish');
    expect((await s.done).text).toBe('late but whole');
  });

  test('awaiting done without reading the stream still completes', async () => {
    const s = openai({ tokens: 'just the summary please', delayMs: 2 });
    const done = await s.done;
    expect(done.text).toBe('just the summary please');
  });

  test('the raw sse provider yields events with their type, data and id', async () => {
    const sse = await startMockProvider({
      provider: 'sse',
      script: {
        raw: 'event: greet\ndata: hello\nid: 7\n\ndata: line1\ndata: line2\n\n: comment\n\n',
        contentType: 'text/event-stream',
      },
    });
    try {
      const events = [];
      for await (const d of stream({ provider: 'sse', url: `${sse.origin}/events` })) events.push(d);
      expect(events).toEqual([
        { type: 'event', event: 'greet', data: 'hello', id: '7' },
        { type: 'event', event: 'message', data: 'line1\nline2', id: '7' },
      ]);
      expect(sse.requests[0].method).toBe('GET');
    } finally {
      await sse.close();
    }
  });

  test('import { stream } from "llm-relay" works from an ES module', () => {
    const { execFileSync } = require('node:child_process');
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { stream, RelayError } from 'llm-relay'; import cjs from 'llm-relay'; console.log(typeof stream, stream === cjs.stream, typeof RelayError)",
      ],
      { cwd: __dirname, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function true function');
  });
});

describe('option validation', () => {
  const cases = [
    [{}, /provider/],
    [{ provider: 'nope' }, /'openai', 'openai-responses', 'anthropic', 'gemini', 'ollama', 'sse'/],
    [{ provider: 'openai', apiKey: 'k', timeouts: { idleMs: -1 } }, /timeouts\.idleMs.*-1/],
    [{ provider: 'openai', apiKey: 'k', timeouts: { idle: 5 } }, /timeouts\.idle/],
    [{ provider: 'openai', apiKey: 'k', baseURL: 'ftp://x' }, /baseURL/],
    [{ provider: 'openai', apiKey: 'k', body: 'hi' }, /body/],
    [{ provider: 'openai', apiKey: 'k', signal: {} }, /signal/],
    [{ provider: 'openai', apiKey: 'k', bodyy: {} }, /Unknown option 'bodyy'/],
    [{ provider: 'sse' }, /url/],
    [{ provider: 'gemini', apiKey: 'k', body: {} }, /model/],
    [{ provider: 'openai', apiKey: 'k', headers: { 'x-a': 'b\r\nx-evil: 1' } }, /line break/],
    [{ provider: 'openai', apiKey: 'k', retry: { attempts: 'many' } }, /retry\.attempts/],
    [{ provider: 'openai', apiKey: 'k', tls: { ca: 'not a pem' } }, /tls\.ca/],
  ];
  test.each(cases)('%j throws INVALID_ARGUMENT naming the option', (options, message) => {
    let error;
    try {
      stream(options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });

  test('a missing API key names the environment variable, and a custom baseURL needs none', () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => stream({ provider: 'openai', body })).toThrow(/OPENAI_API_KEY/);
      const s = stream({ provider: 'openai', baseURL: 'http://127.0.0.1:9/v1', body, retry: false });
      s.abort();
      return s.done.catch(() => {});
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});

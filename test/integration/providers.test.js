'use strict';

// Every recorded provider stream in test/fixtures/manifest.json, replayed by
// the mock provider over a real socket whole, in 1-byte writes and in random
// splits, must give the `done` summary (or the error) recorded next to it.

const fs = require('node:fs');
const path = require('node:path');
const { stream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'manifest.json'), 'utf8'));
let mock;
let current;

beforeAll(async () => {
  mock = await startMockProvider({ script: () => current });
});
afterAll(() => mock.close());

function bodyFor(provider) {
  if (provider === 'anthropic')
    return { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] };
  if (provider === 'gemini')
    return { model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
  if (provider === 'openai-responses') return { model: 'gpt-4.1-mini', input: 'hi' };
  if (provider === 'ollama') return { model: 'qwen3', messages: [{ role: 'user', content: 'hi' }] };
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
}

function open(provider, extra = {}) {
  if (provider === 'sse') return stream({ provider, url: `${mock.origin}/sse`, retry: false, ...extra });
  return stream({
    provider,
    baseURL: mock.baseURL(provider),
    apiKey: 'test-key',
    body: bodyFor(provider),
    retry: false,
    ...extra,
  });
}

async function run(s) {
  const deltas = [];
  let error;
  try {
    for await (const d of s) deltas.push(d);
  } catch (err) {
    error = err;
  }
  const summary = error ? error.partial : await s.done;
  return { deltas, error, summary };
}

function normalizeArgs(provider, args) {
  // Gemini and Ollama send argument objects: compare them as parsed JSON.
  return provider === 'gemini' || provider === 'ollama' ? JSON.parse(args || '{}') : args;
}

function check(entry, { deltas, error, summary }) {
  const exp = entry.expected;
  if (exp.error) {
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe(exp.error.code);
    if (exp.error.status !== undefined) expect(error.status).toBe(exp.error.status);
    if (exp.error.type) expect(error.type).toBe(exp.error.type);
    if (exp.error.message) expect(error.message).toContain(exp.error.message);
    if (exp.error.retryAfterMs !== undefined) expect(error.retryAfterMs).toBe(exp.error.retryAfterMs);
  } else {
    expect(error).toBeUndefined();
  }
  expect(summary.text).toBe(exp.text);
  expect(summary.reasoning).toBe(exp.reasoning);
  expect(
    summary.toolCalls.map((c) => ({
      index: c.index,
      id: c.id,
      name: c.name,
      arguments: normalizeArgs(entry.provider, c.arguments),
    })),
  ).toEqual(
    exp.toolCalls.map((c) => ({
      index: c.index,
      id: c.id === undefined ? null : c.id,
      name: c.name,
      arguments: normalizeArgs(entry.provider, c.arguments),
    })),
  );
  if (!exp.error || exp.error.code !== 'HTTP_STATUS') {
    expect(summary.finishReason).toBe(exp.finishReason);
    expect(summary.rawFinishReason).toBe(exp.rawFinishReason);
    if (exp.summaryUsage) {
      // Cut short before the usage delta: the summary keeps the counts seen so far.
      expect(summary.usage).toMatchObject(exp.summaryUsage);
      expect(deltas.some((d) => d.type === 'usage')).toBe(false);
    } else if (exp.usage) {
      // done.usage.totalTokens is the provider's total, as the usage delta has it: null when it
      // reports none (Anthropic), never a made-up sum.
      const total = exp.usage.totalTokens ?? null;
      expect(summary.usage).toMatchObject({
        inputTokens: exp.usage.inputTokens,
        outputTokens: exp.usage.outputTokens,
        totalTokens: total,
      });
      const usageDelta = deltas.filter((d) => d.type === 'usage').pop();
      if (usageDelta) expect(summary.usage.totalTokens).toBe(usageDelta.totalTokens ?? null);
    } else {
      expect(summary.usage).toBeNull();
    }
  }
  if (exp.events) {
    const events = deltas
      .filter((d) => d.type === 'event')
      .map((d) => ({ event: d.event, data: d.data, id: d.id === undefined ? null : d.id }));
    expect(events).toEqual(exp.events);
  }
  // The deltas a reader saw add up to the summary.
  expect(
    deltas
      .filter((d) => d.type === 'text')
      .map((d) => d.text)
      .join(''),
  ).toBe(summary.text);
}

const splits = [
  ['whole', {}],
  ['1-byte writes', { chunkSize: 1 }],
  ['random splits', { randomChunks: 7 }],
];

describe.each(manifest.map((e) => [e.name, e]))('fixture %s', (name, entry) => {
  test.each(splits)('replayed %s gives the recorded summary', async (_, split) => {
    current = { fixture: entry.name, ...(entry.status === 200 ? split : {}) };
    check(entry, await run(open(entry.provider, entry.provider === 'gemini' ? { model: 'gemini-2.5-flash' } : {})));
  });
});

describe('the same application code for every provider', () => {
  // The 15 lines a user writes once, whatever the provider.
  async function answer(provider) {
    const s = open(provider);
    let text = '';
    for await (const d of s) {
      if (d.type === 'text') text += d.text;
    }
    const done = await s.done;
    return { text, done };
  }

  test.each(['openai', 'openai-responses', 'anthropic', 'gemini', 'ollama'])(
    '%s streams text and the same done shape',
    async (provider) => {
      current = { tokens: ['Hello', ', ', 'wörld', ' 🚀'], delayMs: 1 };
      const { text, done } = await answer(provider);
      expect(text).toBe('Hello, wörld 🚀');
      expect(Object.keys(done).sort()).toEqual([
        'finishReason',
        'metrics',
        'rawFinishReason',
        'reasoning',
        'text',
        'toolCalls',
        'usage',
      ]);
      expect(done).toMatchObject({ text: 'Hello, wörld 🚀', finishReason: 'stop', toolCalls: [] });
      expect(done.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
      expect(done.metrics).toMatchObject({ outcome: 'completed', deltas: 4 });
      // Four fragments over three intervals; the mock reports as many output tokens as it sent.
      expect(done.metrics.deltasPerSecond).toBeGreaterThan(0);
      expect(done.usage.outputTokens).toBe(4);
      expect(done.metrics.outputTokensPerSecond).toBe(done.metrics.deltasPerSecond);
    },
  );

  test('sse streams raw events with the same done shape', async () => {
    current = { tokens: ['a', 'b'] };
    const s = open('sse');
    const events = [];
    for await (const d of s) events.push(d);
    const done = await s.done;
    expect(events.every((d) => d.type === 'event')).toBe(true);
    expect(Object.keys(done).sort()).toEqual([
      'finishReason',
      'metrics',
      'rawFinishReason',
      'reasoning',
      'text',
      'toolCalls',
      'usage',
    ]);
  });

  test.each(['openai', 'openai-responses', 'anthropic', 'gemini', 'ollama'])(
    '%s tool calls arrive whole in done.toolCalls',
    async (provider) => {
      current = {
        toolCalls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_2', name: 'get_time', arguments: '{"tz":"CET"}' },
        ],
      };
      const { done } = await answer(provider);
      expect(done.toolCalls.map((c) => [c.name, JSON.parse(c.arguments), c.argumentsValid])).toEqual([
        ['get_weather', { city: 'Paris' }, true],
        ['get_time', { tz: 'CET' }, true],
      ]);
      expect(done.finishReason).toBe('tool-calls');
    },
  );

  test.each(['openai', 'openai-responses', 'anthropic', 'gemini', 'ollama'])(
    '%s mid-stream error is PROVIDER_ERROR with the text so far',
    async (provider) => {
      current = {
        tokens: ['one ', 'two ', 'three'],
        midStreamError: { after: 2, type: 'server_error', message: 'boom' },
      };
      const { error } = await run(open(provider));
      expect(error).toMatchObject({ code: 'PROVIDER_ERROR' });
      expect(error.message).toContain('boom');
      expect(error.partial.text).toBe('one two ');
    },
  );

  test('Anthropic overloaded_error right after the 200 is retried', async () => {
    let n = 0;
    current = () => undefined;
    const scripts = [
      { tokens: ['x'], midStreamError: { after: 0, type: 'overloaded_error', message: 'Overloaded' } },
      { tokens: ['fine'] },
    ];
    current = scripts[0];
    const s = stream({
      provider: 'anthropic',
      baseURL: mock.baseURL('anthropic'),
      apiKey: 'k',
      body: bodyFor('anthropic'),
      retry: { attempts: 2, baseDelayMs: 5 },
    });
    // switch the script once the first request is in
    const first = mock.requests.length;
    const timer = setInterval(() => {
      if (mock.requests.length > first) {
        current = scripts[1];
        n++;
        clearInterval(timer);
      }
    }, 1);
    const done = await s.done.finally(() => clearInterval(timer));
    expect(n).toBe(1);
    expect(done.text).toBe('fine');
    expect(done.metrics.retries).toBe(1);
  });
});

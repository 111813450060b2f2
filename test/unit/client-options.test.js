'use strict';

// llm-relay/client beyond the basic `sse` reading (test/unit/client.test.js):
// `only: 'text'`, the ndjson and text formats, `data` deltas, the error
// members a server sends, and one RelayError brand shared with the server.

const path = require('node:path');
const vm = require('node:vm');
const { pathToFileURL } = require('node:url');
const { RelayError: ServerRelayError } = require('../../lib/errors');

// Loaded by Node's own loader (Jest's sandbox cannot import ESM); see client.test.js.
let client;
beforeAll(async () => {
  const script = new vm.Script('(url) => import(url)', {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  client = await script.runInThisContext()(pathToFileURL(path.join(__dirname, '../../lib/client/index.mjs')).href);
});

const encoder = new TextEncoder();

function responseOf(chunks, init = {}) {
  let i = 0;
  const body = new ReadableStream(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, ...init });
}

async function collect(response, options) {
  const items = [];
  try {
    for await (const item of client.readStream(response, options)) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

const SSE_ANSWER = [
  'data: {"type":"data","name":"status","data":{"step":1}}\n\n',
  'data: {"type":"reasoning","text":"hm"}\n\n',
  'data: {"type":"text","text":"Hel"}\n\ndata: {"type":"text","text":"lo"}\n\n',
  'data: {"type":"usage","inputTokens":1,"outputTokens":2,"raw":{}}\n\n',
  'data: {"type":"finish","reason":"stop"}\n\ndata: [DONE]\n\n',
];

describe('readStream options', () => {
  test("only: 'text' yields the text as strings and nothing else", async () => {
    const { items, error } = await collect(responseOf(SSE_ANSWER), { only: 'text' });
    expect(error).toBeUndefined();
    expect(items).toEqual(['Hel', 'lo']);
  });

  test('data deltas are yielded as they are, in order with the rest', async () => {
    const { items } = await collect(responseOf(SSE_ANSWER));
    expect(items[0]).toEqual({ type: 'data', name: 'status', data: { step: 1 } });
    expect(items.map((d) => d.type)).toEqual(['data', 'reasoning', 'text', 'text', 'usage', 'finish']);
  });

  test("format 'ndjson' reads delta lines split anywhere, skips heartbeats and ends at the done line", async () => {
    const whole = '{"type":"text","text":"a"}\n\n{"type":"text","text":"é"}\n{"type":"done"}\n';
    const bytes = encoder.encode(whole);
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 3)
      chunks.push(new TextDecoder().decode(bytes.subarray(i, i + 3), { stream: true }));
    // Chunks are re-encoded text here; the split points still fall inside lines.
    const { items, error } = await collect(responseOf(chunks), { format: 'ndjson' });
    expect(error).toBeUndefined();
    expect(items).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'é' },
    ]);
  });

  test("format 'ndjson': an error line throws its code, status and retryAfterMs after the deltas before it", async () => {
    const { items, error } = await collect(
      responseOf([
        '{"type":"text","text":"a"}\n{"type":"error","code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":20000}\n',
      ]),
      { format: 'ndjson' },
    );
    expect(items).toEqual([{ type: 'text', text: 'a' }]);
    expect(error).toMatchObject({
      code: 'HTTP_STATUS',
      status: 429,
      retryAfterMs: 20000,
      message: 'The provider answered HTTP 429',
    });
  });

  test("format 'ndjson' without the done line throws TRUNCATED", async () => {
    const { error } = await collect(responseOf(['{"type":"text","text":"a"}\n']), { format: 'ndjson' });
    expect(error.code).toBe('TRUNCATED');
    expect(error.message).toContain('{"type":"done"}');
  });

  test("format 'text' yields text deltas and ends with the body", async () => {
    const { items, error } = await collect(responseOf(['Hel', 'lo']), { format: 'text' });
    expect(error).toBeUndefined();
    expect(items).toEqual([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
    ]);
  });

  test('an unknown format or only throws INVALID_ARGUMENT naming it', async () => {
    const bad = await collect(responseOf([]), { format: 'xml' });
    expect(bad.error.code).toBe('INVALID_ARGUMENT');
    expect(bad.error.message).toBe("Expected format to be one of 'sse', 'ndjson', 'text' but received \"xml\"");
    const badOnly = await collect(responseOf([]), { only: 'reasoning' });
    expect(badOnly.error.code).toBe('INVALID_ARGUMENT');
    expect(badOnly.error.message).toContain('only');
  });
});

describe('errors that keep their meaning', () => {
  test('an error event gives the RelayError its status and retryAfterMs', async () => {
    const { error } = await collect(
      responseOf([
        'event: error\ndata: {"code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":20000}\n\n',
      ]),
    );
    expect(error).toBeInstanceOf(client.RelayError);
    expect(error).toMatchObject({ name: 'RelayError', code: 'HTTP_STATUS', status: 429, retryAfterMs: 20000 });
  });

  test("the relay's errorStatus answer keeps its code; another app's JSON error stays HTTP_STATUS", async () => {
    const relayAnswer = new Response(
      JSON.stringify({ error: { code: 'TIMEOUT_FIRST_BYTE', message: 'No content within 60000 ms' } }),
      { status: 504 },
    );
    const { error } = await collect(relayAnswer);
    expect(error).toMatchObject({ code: 'TIMEOUT_FIRST_BYTE', status: 504, message: 'No content within 60000 ms' });

    const limited = new Response(
      JSON.stringify({
        error: { code: 'HTTP_STATUS', message: 'The provider answered HTTP 429', status: 429, retryAfterMs: 1500 },
      }),
      {
        status: 429,
        headers: { 'retry-after': '2' },
      },
    );
    // The body's millisecond hint is more precise than the whole seconds of Retry-After.
    expect((await collect(limited)).error).toMatchObject({ code: 'HTTP_STATUS', status: 429, retryAfterMs: 1500 });

    const other = new Response(JSON.stringify({ error: { code: 'rate_limit_exceeded', message: 'Slow down' } }), {
      status: 429,
    });
    expect((await collect(other)).error).toMatchObject({ code: 'HTTP_STATUS', status: 429, message: 'Slow down' });
  });

  test('the client and server RelayError classes recognise each other with instanceof', () => {
    const fromServer = new ServerRelayError('TIMEOUT_IDLE', 'idle');
    const fromClient = new client.RelayError('NETWORK', 'lost');
    expect(fromServer).toBeInstanceOf(client.RelayError);
    expect(fromClient).toBeInstanceOf(ServerRelayError);
    expect(new Error('plain')).not.toBeInstanceOf(client.RelayError);
    expect(new Error('plain')).not.toBeInstanceOf(ServerRelayError);
    expect(null instanceof ServerRelayError).toBe(false);
    expect('RelayError' instanceof client.RelayError).toBe(false);
    // The brand is not an own, enumerable member: JSON and console output are unchanged.
    expect(Object.keys(fromServer)).not.toContain(Symbol.for('llm-relay.RelayError'));
    expect(JSON.stringify({ ...fromClient })).toBe('{"name":"RelayError","code":"NETWORK"}');
  });

  test('a subclass of RelayError keeps the ordinary instanceof', () => {
    class TooSlow extends ServerRelayError {}
    expect(new TooSlow('TIMEOUT_IDLE', 'x')).toBeInstanceOf(ServerRelayError);
    expect(new ServerRelayError('TIMEOUT_IDLE', 'x')).not.toBeInstanceOf(TooSlow);
    expect(new client.RelayError('TIMEOUT_IDLE', 'x')).not.toBeInstanceOf(TooSlow);
  });
});

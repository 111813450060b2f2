'use strict';

// lib/client.mjs (llm-relay/client): the browser reader of the relay's `sse`
// format, fed from in-memory ReadableStreams split every which way and from a
// real node:http server on 127.0.0.1 (for abort and disconnect, where the
// server side is checked too).

const http = require('node:http');
const path = require('node:path');
const vm = require('node:vm');
const { once } = require('node:events');
const { pathToFileURL } = require('node:url');

// Jest's module sandbox cannot `import()` an ES module without
// --experimental-vm-modules, so the module is loaded by Node's own loader in
// the main context. The client only touches fetch-API globals, which are the
// same objects in both contexts. (Node prints one ExperimentalWarning for
// USE_MAIN_CONTEXT_DEFAULT_LOADER.)
let client;
beforeAll(async () => {
  const script = new vm.Script('(url) => import(url)', {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  client = await script.runInThisContext()(pathToFileURL(path.join(__dirname, '../../lib/client/index.mjs')).href);
});

const encoder = new TextEncoder();

/** A ReadableStream that hands out `chunks` one per pull, then closes. */
function bodyOf(chunks, { onCancel, close = true } = {}) {
  let i = 0;
  return new ReadableStream(
    {
      pull(controller) {
        if (i < chunks.length) {
          const chunk = chunks[i++];
          controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
        } else if (close) {
          controller.close();
        }
        // close === false: the stream stays open, as a stalled server would.
      },
      cancel(reason) {
        if (onCancel) onCancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function responseOf(chunks, init = {}, options = {}) {
  return new Response(bodyOf(chunks, options), {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    ...init,
  });
}

/** Splits `bytes` at the given cut positions. */
function cut(bytes, positions) {
  const parts = [];
  let start = 0;
  for (const p of positions) {
    parts.push(bytes.subarray(start, p));
    start = p;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

/** Deterministic PRNG (mulberry32), so a failing split can be replayed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs readStream to its end; returns the deltas and the error, if any. */
async function collect(responseOrPromise, options) {
  const deltas = [];
  try {
    for await (const delta of client.readStream(responseOrPromise, options)) deltas.push(delta);
    return { deltas, error: undefined };
  } catch (error) {
    return { deltas, error };
  }
}

// A transcript of the relay's `sse` format with every delta kind, non-ASCII
// text (2-, 3- and 4-byte UTF-8), escapes, a comment and CRLF line endings.
const DELTAS = [
  { type: 'text', text: 'Hél' },
  { type: 'text', text: 'lo 世界 🎉\n"q"\u2028' },
  { type: 'reasoning', text: 'think…' },
  { type: 'tool-call', index: 0, id: 'call_1', name: 'get_weather', argumentsDelta: '{"city":' },
  { type: 'tool-call', index: 0, argumentsDelta: '"Paris"}' },
  { type: 'usage', inputTokens: 10, outputTokens: null, raw: { prompt_tokens: 10 } },
  { type: 'finish', reason: 'tool-calls', raw: 'tool_calls' },
  { type: 'event', event: 'e', data: 'd', id: '1' },
];
const TRANSCRIPT =
  DELTAS.slice(0, 3)
    .map((d) => `data: ${JSON.stringify(d)}\n\n`)
    .join('') +
  ': ping\n\n' +
  DELTAS.slice(3)
    .map((d) => `data: ${JSON.stringify(d)}\r\n\r\n`)
    .join('') +
  'data: [DONE]\n\n';
const TRANSCRIPT_BYTES = encoder.encode(TRANSCRIPT);

describe('readStream over in-memory bodies', () => {
  test('yields every delta of a well-formed stream and ends at [DONE]', async () => {
    const { deltas, error } = await collect(responseOf([TRANSCRIPT_BYTES]));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(DELTAS);
  });

  test('yields the same deltas when the bytes arrive one at a time', async () => {
    const ones = Array.from({ length: TRANSCRIPT_BYTES.length - 1 }, (_, i) => i + 1);
    const { deltas, error } = await collect(responseOf(cut(TRANSCRIPT_BYTES, ones)));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(DELTAS);
  });

  test('yields the same deltas for a cut at every byte, mid-character included', async () => {
    // The transcript holds multi-byte characters, so some of these cuts fall
    // inside a UTF-8 sequence and some between the CR and LF of a CRLF.
    for (let p = 1; p < TRANSCRIPT_BYTES.length; p++) {
      const { deltas, error } = await collect(responseOf(cut(TRANSCRIPT_BYTES, [p])));
      if (error || deltas.length !== DELTAS.length)
        throw new Error(`cut at byte ${p}: ${error?.message ?? deltas.length}`);
      expect(deltas).toEqual(DELTAS);
    }
  });

  test('yields the same deltas for random splits into many pieces', async () => {
    const random = prng(20240601);
    for (let round = 0; round < 200; round++) {
      const positions = [];
      for (let p = 1; p < TRANSCRIPT_BYTES.length; p++) if (random() < 0.15) positions.push(p);
      const { deltas, error } = await collect(responseOf(cut(TRANSCRIPT_BYTES, positions)));
      if (error) throw new Error(`round ${round} cuts ${positions.join(',')}: ${error.message}`);
      expect(deltas).toEqual(DELTAS);
    }
  });

  test('accepts LF, CRLF and lone CR line endings, mixed', async () => {
    const a = JSON.stringify({ type: 'text', text: 'a' });
    const b = JSON.stringify({ type: 'text', text: 'b' });
    const c = JSON.stringify({ type: 'text', text: 'c' });
    const body = `data: ${a}\r\rdata: ${b}\r\n\ndata: ${c}\n\r\ndata: [DONE]\r\r`;
    const { deltas, error } = await collect(responseOf([body]));
    expect(error).toBeUndefined();
    expect(deltas.map((d) => d.text)).toEqual(['a', 'b', 'c']);
  });

  test('treats a CR at the end of a chunk and an LF at the start of the next as one line break', async () => {
    const a = JSON.stringify({ type: 'text', text: 'a' });
    // Were the split CRLF two line breaks, the first event would be
    // dispatched early and the [DONE] line would start a new one: same
    // result. So put the split inside the event: `data: x\r` + `\ndata: y`
    // must be two data lines of ONE event, not an event and a stray line.
    const chunks = ['data: {"type":"text",\r', '\ndata: "text":"a"}\r', '\n\r', '\ndata: [DONE]\r', '\n\r', '\n'];
    const { deltas, error } = await collect(responseOf(chunks));
    expect(error).toBeUndefined();
    expect(deltas).toEqual([JSON.parse(a)]);
  });

  test('joins multi-line data with a newline', async () => {
    const body = 'data: {"type":"text",\ndata:"text":\ndata:  "x"}\n\ndata: [DONE]\n\n';
    const { deltas, error } = await collect(responseOf([body]));
    expect(error).toBeUndefined();
    expect(deltas).toEqual([{ type: 'text', text: 'x' }]);
  });

  test('ignores comments, id, retry, unknown fields and events of other names', async () => {
    const body = [
      ': ping',
      ':',
      'id: 7',
      'retry: 1000',
      'foo: bar',
      'data: {"type":"text","text":"a"}',
      ': a comment inside an event',
      '',
      'event: ping',
      'data: {"not":"a delta"}',
      '',
      'event',
      'data: {"type":"text","text":"b"}',
      '',
      'id: 8',
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\n');
    const { deltas, error } = await collect(responseOf([body]));
    expect(error).toBeUndefined();
    expect(deltas).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ]);
  });

  test('ignores a byte order mark at the start of the stream', async () => {
    const body = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...encoder.encode('data: {"type":"text","text":"a"}\n\ndata: [DONE]\n\n'),
    ]);
    const { deltas, error } = await collect(responseOf([body.subarray(0, 2), body.subarray(2)]));
    expect(error).toBeUndefined();
    expect(deltas).toEqual([{ type: 'text', text: 'a' }]);
  });

  test('reads a long line that arrives in many small chunks', async () => {
    const text = 'x'.repeat(200000);
    const bytes = encoder.encode(`data: ${JSON.stringify({ type: 'text', text })}\n\ndata: [DONE]\n\n`);
    const positions = [];
    for (let p = 997; p < bytes.length; p += 997) positions.push(p);
    const { deltas, error } = await collect(responseOf(cut(bytes, positions)));
    expect(error).toBeUndefined();
    expect(deltas[0].text).toBe(text);
  });

  test('stops at [DONE] and cancels whatever follows it', async () => {
    let cancelled = false;
    const chunks = ['data: {"type":"text","text":"a"}\n\ndata: [DONE]\n\n', 'data: {"type":"text","text":"late"}\n\n'];
    const { deltas, error } = await collect(
      responseOf(
        chunks,
        {},
        {
          close: false,
          onCancel: () => {
            cancelled = true;
          },
        },
      ),
    );
    expect(error).toBeUndefined();
    expect(deltas).toEqual([{ type: 'text', text: 'a' }]);
    expect(cancelled).toBe(true);
  });

  test('throws the code and message of an error event after the deltas before it', async () => {
    const body =
      'data: {"type":"text","text":"par"}\n\n' +
      'event: error\ndata: {"code":"TIMEOUT_IDLE","message":"No delta for 30000 ms"}\n\n';
    const { deltas, error } = await collect(responseOf([body]));
    expect(deltas).toEqual([{ type: 'text', text: 'par' }]);
    expect(error).toBeInstanceOf(client.RelayError);
    expect(error.name).toBe('RelayError');
    expect(error.code).toBe('TIMEOUT_IDLE');
    expect(error.message).toBe('No delta for 30000 ms');
  });

  test('throws PROVIDER_ERROR for an error event without a code, and PROTOCOL for one without JSON', async () => {
    const noCode = await collect(responseOf(['event: error\ndata: {"message":"boom"}\n\n']));
    expect(noCode.error.code).toBe('PROVIDER_ERROR');
    expect(noCode.error.message).toBe('boom');
    const notJson = await collect(responseOf(['event: error\ndata: boom\n\n']));
    expect(notJson.error.code).toBe('PROTOCOL');
    expect(notJson.error.message).toMatch(/boom/);
  });

  test('throws PROTOCOL for a data line that is not JSON', async () => {
    const { deltas, error } = await collect(responseOf(['data: {"type":"text","text":"a"}\n\ndata: {oops\n\n']));
    expect(deltas).toHaveLength(1);
    expect(error.code).toBe('PROTOCOL');
    expect(error.message).toMatch(/\{oops/);
  });

  test('throws TRUNCATED when the stream ends without [DONE]', async () => {
    const { deltas, error } = await collect(responseOf(['data: {"type":"text","text":"a"}\n\n']));
    expect(deltas).toEqual([{ type: 'text', text: 'a' }]);
    expect(error).toBeInstanceOf(client.RelayError);
    expect(error.code).toBe('TRUNCATED');
  });

  test('throws TRUNCATED when [DONE] is not followed by the blank line that dispatches it', async () => {
    const { error } = await collect(responseOf(['data: {"type":"text","text":"a"}\n\ndata: [DONE]\n']));
    expect(error.code).toBe('TRUNCATED');
  });

  test('throws TRUNCATED for a 2xx response without a body', async () => {
    const { error } = await collect(new Response(null, { status: 204 }));
    expect(error.code).toBe('TRUNCATED');
  });

  test('accepts a promise of a response', async () => {
    const { deltas, error } = await collect(Promise.resolve(responseOf([TRANSCRIPT])));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(DELTAS);
  });

  test('turns a rejected response promise into a NETWORK error with the cause', async () => {
    const cause = new TypeError('fetch failed');
    const { error } = await collect(Promise.reject(cause));
    expect(error.code).toBe('NETWORK');
    expect(error.cause).toBe(cause);
  });

  test('throws INVALID_ARGUMENT for something that is not a response', async () => {
    const { error } = await collect(Promise.resolve(42));
    expect(error.code).toBe('INVALID_ARGUMENT');
  });

  test('turns a failing body read into a NETWORK error', async () => {
    const cause = new Error('socket hang up');
    let sent = false;
    const body = new ReadableStream({
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(encoder.encode('data: {"type":"text","text":"a"}\n\n'));
        } else {
          controller.error(cause);
        }
      },
    });
    const { deltas, error } = await collect(new Response(body));
    expect(deltas).toHaveLength(1);
    expect(error.code).toBe('NETWORK');
    expect(error.cause).toBe(cause);
  });
});

describe('readStream and non-2xx responses', () => {
  test.each([
    [
      'an OpenAI-style error object',
      JSON.stringify({ error: { message: 'Rate limit reached', type: 'rate_limit' } }),
      'Rate limit reached',
    ],
    ['a top-level message', JSON.stringify({ message: 'Bad input' }), 'Bad input'],
    ['an error string', JSON.stringify({ error: 'nope' }), 'nope'],
    ['a plain-text body', 'upstream exploded', 'Too Many Requests'],
    ['an empty body', '', 'Too Many Requests'],
  ])('throws HTTP_STATUS with the message of %s', async (_name, body, message) => {
    const response = new Response(body, { status: 429, statusText: 'Too Many Requests' });
    const { deltas, error } = await collect(response);
    expect(deltas).toEqual([]);
    expect(error).toBeInstanceOf(client.RelayError);
    expect(error.code).toBe('HTTP_STATUS');
    expect(error.status).toBe(429);
    expect(error.message).toBe(message);
  });

  test('falls back to the status code when there is no status text either', async () => {
    const { error } = await collect(new Response('', { status: 500 }));
    expect(error.message).toBe('HTTP status 500');
    expect(error.status).toBe(500);
  });

  test('reads Retry-After in seconds and as an HTTP date', async () => {
    const seconds = await collect(new Response('{}', { status: 503, headers: { 'retry-after': '3' } }));
    expect(seconds.error.retryAfterMs).toBe(3000);
    const date = new Date(Date.now() + 60000).toUTCString();
    const dated = await collect(new Response('{}', { status: 503, headers: { 'retry-after': date } }));
    expect(dated.error.retryAfterMs).toBeGreaterThan(50000);
    expect(dated.error.retryAfterMs).toBeLessThanOrEqual(60000);
    const none = await collect(new Response('{}', { status: 503 }));
    expect(none.error.retryAfterMs).toBeUndefined();
  });
});

describe('readStream cancellation on in-memory bodies', () => {
  test('an already aborted signal throws ABORTED without reading and releases the body', async () => {
    let pulled = false;
    let cancelled = false;
    const body = new ReadableStream(
      {
        pull() {
          pulled = true;
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const reason = new Error('user left');
    const { error } = await collect(new Response(body), { signal: AbortSignal.abort(reason) });
    expect(error).toBeInstanceOf(client.RelayError);
    expect(error.code).toBe('ABORTED');
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    expect(pulled).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(cancelled).toBe(true); // nobody will read it: released at once
  });

  test('breaking out of the loop cancels the body', async () => {
    let cancelled = false;
    const response = responseOf(
      ['data: {"type":"text","text":"a"}\n\n'],
      {},
      {
        close: false,
        onCancel: () => {
          cancelled = true;
        },
      },
    );
    for await (const delta of client.readStream(response)) {
      expect(delta.text).toBe('a');
      break;
    }
    expect(cancelled).toBe(true);
  });

  test('aborting while the consumer holds a delta stops before the next one', async () => {
    const controller = new AbortController();
    const body = 'data: {"type":"text","text":"a"}\n\ndata: {"type":"text","text":"b"}\n\ndata: [DONE]\n\n';
    const seen = [];
    let error;
    try {
      for await (const delta of client.readStream(responseOf([body]), { signal: controller.signal })) {
        seen.push(delta.text);
        controller.abort('stop');
      }
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual(['a']);
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe('stop');
  });
});

describe('readStream against a node:http server', () => {
  let server;
  let url;
  let requests; // one record per request: { req, res, closed: Promise }

  beforeEach(async () => {
    requests = [];
    server = http.createServer((req, res) => {
      const record = { req, res, closed: once(res, 'close') };
      requests.push(record);
      server.emit('test-request', record);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${server.address().port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  function nextRequest() {
    return new Promise((resolve) => server.once('test-request', resolve));
  }

  function sseHead(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
  }

  test('reads a stream written in many small writes', async () => {
    server.on('test-request', async ({ res }) => {
      sseHead(res);
      // Cut at every 5th byte, mid-character included.
      for (let p = 0; p < TRANSCRIPT_BYTES.length; p += 5) {
        res.write(TRANSCRIPT_BYTES.subarray(p, p + 5));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
    const { deltas, error } = await collect(fetch(url));
    expect(error).toBeUndefined();
    expect(deltas).toEqual(DELTAS);
  });

  test('throws HTTP_STATUS with the JSON message and status of a real error response', async () => {
    server.on('test-request', ({ res }) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Invalid API key', code: 'invalid_api_key' } }));
    });
    const { error } = await collect(fetch(url));
    expect(error.code).toBe('HTTP_STATUS');
    expect(error.status).toBe(401);
    expect(error.message).toBe('Invalid API key');
  });

  test('throws TRUNCATED when the server ends the response without [DONE]', async () => {
    server.on('test-request', ({ res }) => {
      sseHead(res);
      res.end('data: {"type":"text","text":"a"}\n\n');
    });
    const { deltas, error } = await collect(fetch(url));
    expect(deltas).toHaveLength(1);
    expect(error.code).toBe('TRUNCATED');
  });

  test('throws NETWORK when the server drops the connection mid-stream', async () => {
    server.on('test-request', ({ res }) => {
      sseHead(res);
      res.write('data: {"type":"text","text":"a"}\n\n', () => setTimeout(() => res.socket.destroy(), 20));
    });
    const { deltas, error } = await collect(fetch(url));
    expect(deltas).toHaveLength(1);
    expect(error.code).toBe('NETWORK');
    expect(error.cause).toBeDefined();
  });

  test('aborting mid-stream throws ABORTED and closes the connection the server holds', async () => {
    const controller = new AbortController();
    const reason = new Error('user navigated away');
    server.on('test-request', ({ res }) => {
      sseHead(res);
      res.write('data: {"type":"text","text":"a"}\n\n');
      // ...and then nothing: the stream stays open until the client leaves.
    });
    const seen = [];
    let error;
    const closed = nextRequest().then((r) => r.closed);
    try {
      for await (const delta of client.readStream(fetch(url), { signal: controller.signal })) {
        seen.push(delta);
        setTimeout(() => controller.abort(reason), 10);
      }
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual([{ type: 'text', text: 'a' }]);
    expect(error.code).toBe('ABORTED');
    expect(error.name).toBe('AbortError');
    expect(error.cause).toBe(reason);
    await closed; // the server saw its response's connection close
    expect(requests[0].res.writableFinished).toBe(false);
  });

  test('aborting while the response is still on its way throws ABORTED at once and releases the late response', async () => {
    const controller = new AbortController();
    let respond;
    server.on('test-request', ({ res }) => {
      respond = () => {
        sseHead(res);
        res.write('data: {"type":"text","text":"late"}\n\n');
      };
    });
    const closed = nextRequest().then((r) => r.closed);
    // The fetch itself does not get the signal: readStream alone must let go.
    const pending = collect(fetch(url), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    controller.abort();
    const { deltas, error } = await pending;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(deltas).toEqual([]);
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBeInstanceOf(DOMException);
    respond();
    await closed; // the late response's body was cancelled, so the connection closed
  });

  test('breaking out of the loop closes the connection the server holds', async () => {
    server.on('test-request', ({ res }) => {
      sseHead(res);
      res.write('data: {"type":"text","text":"a"}\n\n');
    });
    const closed = nextRequest().then((r) => r.closed);
    for await (const delta of client.readStream(fetch(url))) {
      expect(delta.text).toBe('a');
      break;
    }
    await closed;
  });

  test('an error event after the 200 is thrown with its code', async () => {
    server.on('test-request', ({ res }) => {
      sseHead(res);
      res.write('data: {"type":"text","text":"a"}\n\n');
      res.end('event: error\ndata: {"code":"PROVIDER_ERROR","message":"Overloaded"}\n\n');
    });
    const { deltas, error } = await collect(fetch(url));
    expect(deltas).toHaveLength(1);
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(error.message).toBe('Overloaded');
  });
});

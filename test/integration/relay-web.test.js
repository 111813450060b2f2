'use strict';

// s.toResponse(opts) as a Next.js App Router route handler would use it: the
// handler gets a real fetch-API Request and returns the Response, whose body
// is read with fetch-API semantics. The mock provider checks the upstream
// side (did its connection close after an abort?).

const { Readable } = require('node:stream');
const { RelayError } = require('../../lib');
const {
  startServer,
  startMockProvider,
  mockStream,
  within,
  sleep,
  rawRequest,
  parseRawResponse,
} = require('./relay-helpers');

const cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()();
});

async function mockWith(script) {
  const mock = await startMockProvider({ provider: 'openai', script });
  cleanups.push(() => mock.close());
  return mock;
}

/** A route handler in the shape of app/api/chat/route.js. */
function routeHandler(mock, { responseOptions = {}, streamOptions = {} } = {}) {
  const streams = [];
  async function POST(req) {
    const { messages } = await req.json();
    const s = mockStream(mock, { body: { model: 'gpt-4o-mini', messages }, ...streamOptions });
    streams.push(s);
    return s.toResponse({ signal: req.signal, ...responseOptions });
  }
  return { POST, streams };
}

function chatRequest(signal) {
  return new Request('http://localhost/api/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    signal,
  });
}

async function readAll(body) {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) {
    expect(chunk).toBeInstanceOf(Uint8Array);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

describe('toResponse() as a route handler', () => {
  test('returns a 200 Response with the streaming headers and the exact sse body', async () => {
    const mock = await mockWith({ tokens: ['Hel', 'lo'] });
    const route = routeHandler(mock);
    const res = await route.POST(chatRequest());
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    const body = await res.text();
    expect(body.replace(/data: \{"type":"usage",[^\n]*\n\n/, '<usage>')).toBe(
      'data: {"type":"text","text":"Hel"}\n\ndata: {"type":"text","text":"lo"}\n\n' +
        'data: {"type":"finish","reason":"stop","raw":"stop"}\n\n<usage>data: [DONE]\n\n',
    );
    const summary = await route.streams[0].done;
    expect(summary.text).toBe('Hello');
    const [request] = mock.requests;
    expect(request.body.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  test('every format keeps its content type, and ui-message announces its protocol', async () => {
    const mock = await mockWith({ tokens: ['a', 'b'] });
    const expected = {
      sse: 'text/event-stream; charset=utf-8',
      openai: 'text/event-stream; charset=utf-8',
      'ui-message': 'text/event-stream; charset=utf-8',
      ndjson: 'application/x-ndjson',
      text: 'text/plain; charset=utf-8',
    };
    for (const [format, contentType] of Object.entries(expected)) {
      const res = await routeHandler(mock, { responseOptions: { format } }).POST(chatRequest());
      expect(res.headers.get('content-type')).toBe(contentType);
      expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe(format === 'ui-message' ? 'v1' : null);
      const body = await readAll(res.body);
      if (format === 'text') expect(body).toBe('ab');
      if (format === 'ndjson') expect(body.endsWith('{"type":"done"}\n')).toBe(true);
      if (format === 'ui-message' || format === 'openai' || format === 'sse')
        expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    }
  });

  test('aborting the request signal closes the upstream request', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 100 }, (_, i) => `t${i} `), delayMs: 30 });
    const route = routeHandler(mock);
    const controller = new AbortController();
    const res = await route.POST(chatRequest(controller.signal));
    const reader = res.body.getReader();
    const first = await within(reader.read(), 5000, 'the first chunk');
    expect(new TextDecoder().decode(first.value)).toContain('"text":"t0 "');
    const [request] = await mock.waitForRequests(1);
    const abortedAt = Date.now();
    controller.abort(new Error('client went away'));
    await within(request.closed, 2000, 'the upstream request closing');
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(request.completed).toBe(false);
    const error = await route.streams[0].done.catch((err) => err);
    expect(error.code).toBe('ABORTED');
    expect(error.cause.message).toBe('client went away');
    // The body ends (with the in-band abort event), it does not hang.
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toMatch(/event: error\ndata: \{"code":"ABORTED"/);
  });

  test('cancelling the body (the framework saw the client leave) closes the upstream request', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 100 }, (_, i) => `t${i} `), delayMs: 30 });
    const route = routeHandler(mock);
    const res = await route.POST(chatRequest());
    const reader = res.body.getReader();
    await within(reader.read(), 5000, 'the first chunk');
    const [request] = await mock.waitForRequests(1);
    await reader.cancel(new Error('navigated away'));
    await within(request.closed, 2000, 'the upstream request closing');
    const error = await route.streams[0].done.catch((err) => err);
    expect(error.code).toBe('ABORTED');
  });

  test('a request signal that is already aborted never leaves the upstream request running', async () => {
    const mock = await mockWith({ tokens: 'x', ttftMs: 100 });
    const route = routeHandler(mock);
    const controller = new AbortController();
    const request = chatRequest(controller.signal);
    controller.abort(new Error('client left while the handler was busy'));
    const res = await route.POST(request);
    await expect(within(readAll(res.body), 3000, 'the body ending')).resolves.toMatch(/"code":"ABORTED"/);
    const error = await route.streams[0].done.catch((err) => err);
    expect(error.code).toBe('ABORTED');
    // The request may or may not have reached the mock; if it did, it is closed.
    for (const upstream of mock.requests) await within(upstream.closed, 2000, 'the upstream request closing');
  });

  test('heartbeats fill the silence', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c'], stallAfter: 1 });
    const route = routeHandler(mock, { responseOptions: { heartbeatMs: 40 } });
    const controller = new AbortController();
    const res = await route.POST(chatRequest(controller.signal));
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await within(
      (async () => {
        while ((text.match(/: ping\n\n/g) || []).length < 2) {
          const { value } = await reader.read();
          text += decoder.decode(value);
        }
      })(),
      3000,
      'two heartbeats',
    );
    expect(text.startsWith('data: {"type":"text","text":"a"}\n\n: ping\n\n: ping\n\n')).toBe(true);
    controller.abort();
    await within(mock.requests[0].closed, 2000, 'the upstream request closing');
  });

  test('an error mid-stream is an in-band event: error, then the body closes', async () => {
    const mock = await mockWith({ tokens: ['a', 'b'], midStreamError: { after: 1, message: 'overloaded' } });
    const route = routeHandler(mock, { streamOptions: { retry: { attempts: 0 } } });
    const res = await route.POST(chatRequest());
    const body = await readAll(res.body);
    expect(body).toMatch(
      /^data: \{"type":"text","text":"a"\}\n\nevent: error\ndata: \{"code":"PROVIDER_ERROR","message":"[^"]*overloaded[^"]*"\}\n\n$/,
    );
  });

  test('an error before the first byte is a 200 with event: error', async () => {
    const mock = await mockWith({ status: 429, headers: { 'retry-after': '3' } });
    const route = routeHandler(mock, { streamOptions: { retry: { attempts: 0 } } });
    const res = await route.POST(chatRequest());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      'event: error\ndata: {"code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":3000}\n\n',
    );
  });

  test('text cannot carry an error: its body errors instead of closing', async () => {
    const mock = await mockWith({ tokens: ['a', 'b'], midStreamError: { after: 1 } });
    const route = routeHandler(mock, {
      responseOptions: { format: 'text' },
      streamOptions: { retry: { attempts: 0 } },
    });
    const res = await route.POST(chatRequest());
    const reader = res.body.getReader();
    let text = '';
    const error = await (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        text += new TextDecoder().decode(value);
      }
    })().catch((err) => err);
    expect(text).toBe('a');
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe('PROVIDER_ERROR');
  });

  test('errorStatus is refused: a Response cannot wait for the provider', async () => {
    const mock = await mockWith({ tokens: 'x' });
    const s = mockStream(mock);
    let error;
    try {
      s.toResponse({ errorStatus: true });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/errorStatus/);
    expect(error.message).toMatch(/pipe\(res, \{ errorStatus: true \}\)/);
    // The stream was left untouched: it can still be consumed another way.
    expect((await s.done).text).toBe('x');
  });

  test('bad options throw INVALID_ARGUMENT synchronously', async () => {
    const mock = await mockWith({ tokens: 'x' });
    const s = mockStream(mock);
    for (const [opts, message] of [
      [{ format: 'html' }, /one of 'sse', 'openai', 'ui-message', 'ndjson', 'text'/],
      [{ signal: {} }, /AbortSignal/],
      [{ heartbeatMs: -5 }, /heartbeatMs/],
      [{ flushMs: NaN }, /flushMs/],
      [{ header: {} }, /Unknown option "header"/],
    ]) {
      expect(() => s.toResponse(opts)).toThrow(message);
    }
    s.abort();
    await s.done.catch(() => {});
  });

  test('a body nobody reads pauses the provider transfer, and resumes when read', async () => {
    const token = 'x'.repeat(1000);
    // ~30 MB of text (~40 MB upstream): far more than the loopback socket buffers hold (the mock had
    // written 5-11 MB when measured here; a receive buffer autotunes up to tcp_rmem's max), and far
    // above the body's 64 KiB queue.
    const count = 30_000;
    const mock = await mockWith({ tokens: Array.from({ length: count }, () => token) });
    const route = routeHandler(mock, { responseOptions: { format: 'text' } });
    const res = await route.POST(chatRequest());
    cleanups.push(() => res.body.cancel().catch(() => {}));
    const [request] = await mock.waitForRequests(1);
    await sleep(800);
    // Paused: the mock is still blocked on its writes.
    expect(request.completed).toBe(false);
    const text = await within(readAll(res.body), 15000, 'the whole body');
    expect(text.length).toBe(count * token.length);
    await within(request.closed, 2000, 'the upstream request finishing');
    expect(request.completed).toBe(true);
  });

  test('served over node:http the way a framework adapter does, a client disconnect closes the upstream', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 100 }, (_, i) => `t${i} `), delayMs: 30 });
    const route = routeHandler(mock);
    const server = await startServer(async (req, res) => {
      // A minimal Next.js-style adapter: node request → Request, Response → node response.
      const controller = new AbortController();
      res.on('close', () => controller.abort());
      const request = new Request(`http://localhost${req.url}`, {
        method: req.method,
        headers: req.headers,
        body: Readable.toWeb(req),
        duplex: 'half',
        signal: controller.signal,
      });
      const response = await route.POST(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.flushHeaders();
      const body = Readable.fromWeb(response.body);
      body.on('error', () => res.destroy());
      body.pipe(res);
    });
    cleanups.push(() => server.close());
    const client = rawRequest(server.port, {
      body: JSON.stringify({ messages: [] }),
      headers: { 'Content-Type': 'application/json' },
    });
    await within(client.waitFor('"text":"t1 "'), 5000, 'the first tokens');
    expect(parseRawResponse(client.text()).headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const [request] = await mock.waitForRequests(1);
    client.socket.destroy();
    await within(request.closed, 2000, 'the upstream request closing');
  });
});

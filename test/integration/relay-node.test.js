'use strict';

// s.pipe(res) on node:http and Express 5, against the mock provider over real
// sockets: the headers and bytes that reach the client, every format read by
// its real client library, disconnects, heartbeats, errors before and after
// the 200, compression() in front, and option validation.

const http = require('node:http');
const http2 = require('node:http2');
const zlib = require('node:zlib');
const express = require('express');
const compression = require('compression');
const OpenAI = require('openai');
const { parseJsonEventStream, uiMessageChunkSchema, readUIMessageStream } = require('ai');
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
// Node 20's built-in fetch (undici) holds a ref'd timer for up to a second
// after its last request, longer than a Jest worker waits before it reports a
// forced exit. Nothing of ours is left open by then: wait the timer out.
afterAll(() => sleep(1100));

async function mockWith(script, options = {}) {
  const mock = await startMockProvider({ provider: 'openai', script, ...options });
  cleanups.push(() => mock.close());
  return mock;
}

/** A node:http relay: every request gets a fresh stream from the mock, piped with `pipeOptions`. */
async function relayServer(mock, { pipeOptions = {}, streamOptions = {}, onPipe } = {}) {
  const results = [];
  const server = await startServer((req, res) => {
    const s = mockStream(mock, streamOptions);
    const promise = s.pipe(res, pipeOptions);
    results.push(
      promise.then(
        (summary) => ({ summary }),
        (error) => ({ error }),
      ),
    );
    if (onPipe) onPipe(promise, s);
  });
  cleanups.push(() => server.close());
  return { ...server, results };
}

/** Replaces the mock's raw usage event (its `raw` member is the provider's own object). */
function withoutUsage(body) {
  return body.replace(/data: \{"type":"usage",[^\n]*\n\n/, '<usage>');
}

describe('pipe(res) on node:http', () => {
  test('sends exactly the SSE headers, flushed before the provider has answered', async () => {
    const mock = await mockWith({ tokens: 'Hi', ttftMs: 600 });
    const relay = await relayServer(mock);
    const client = rawRequest(relay.port, { keepAlive: true });
    const head = await within(client.waitFor('\r\n\r\n'), 5000, 'the response head');
    const headAt = Date.now();
    expect(head).not.toContain('data:');
    await within(client.waitFor('data:'), 5000, 'the first token');
    // The head went out while the mock still waited ttftMs before its first token.
    expect(Date.now() - headAt).toBeGreaterThan(300);
    await within(client.waitFor('\r\n0\r\n\r\n'), 5000, 'the end of the body');
    client.socket.destroy();
    const { status, headers } = parseRawResponse(client.text());
    expect(status).toBe(200);
    const { date, ...rest } = headers;
    expect(date).toEqual(expect.any(String));
    expect(rest).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'transfer-encoding': 'chunked',
    });
  });

  test('the sse body is exactly one data line per delta and ends with data: [DONE]', async () => {
    const mock = await mockWith({ tokens: ['Hel', 'lo', ' "wörld"\n'] });
    const relay = await relayServer(mock);
    const res = await fetch(relay.url, { method: 'POST' });
    const body = await res.text();
    expect(withoutUsage(body)).toBe(
      'data: {"type":"text","text":"Hel"}\n\n' +
        'data: {"type":"text","text":"lo"}\n\n' +
        'data: {"type":"text","text":" \\"wörld\\"\\n"}\n\n' +
        'data: {"type":"finish","reason":"stop","raw":"stop"}\n\n' +
        '<usage>' +
        'data: [DONE]\n\n',
    );
    const usage = JSON.parse(/data: (\{"type":"usage".*)\n\n/.exec(body)[1]);
    expect(usage).toMatchObject({ type: 'usage', inputTokens: 10, outputTokens: 3, totalTokens: 13 });
    const { summary } = await relay.results[0];
    expect(summary.text).toBe('Hello "wörld"\n');
    expect(summary.finishReason).toBe('stop');
  });

  test('the returned promise resolves with the same summary as done', async () => {
    const mock = await mockWith({ tokens: 'one two' });
    let stream;
    let piped;
    const relay = await relayServer(mock, {
      onPipe: (promise, s) => {
        stream = s;
        piped = promise;
      },
    });
    await (await fetch(relay.url)).text();
    const summary = await piped;
    expect(summary).toEqual(await stream.done);
    expect(summary.text).toBe('one two');
    expect(summary.metrics.deltas).toBeGreaterThan(0);
  });

  test('does not send Connection: keep-alive to a client that asked to close', async () => {
    const mock = await mockWith({ tokens: 'Hi' });
    const relay = await relayServer(mock);
    const client = rawRequest(relay.port, { keepAlive: false });
    const raw = await within(client.closed, 5000, 'the server closing the connection');
    const { headers, body, complete } = parseRawResponse(raw);
    expect(headers.connection).toBe('close');
    expect(complete).toBe(true);
    expect(body).toContain('data: [DONE]\n\n');
  });

  test('ndjson: one Delta JSON per line, application/x-ndjson, and a done line', async () => {
    const mock = await mockWith({ tokens: ['a', 'b'] });
    const relay = await relayServer(mock, { pipeOptions: { format: 'ndjson' } });
    const res = await fetch(relay.url);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((line) => JSON.parse(line));
    expect(parsed.slice(0, 3)).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
      { type: 'finish', reason: 'stop', raw: 'stop' },
    ]);
    expect(parsed[3]).toMatchObject({ type: 'usage', inputTokens: 10, outputTokens: 2 });
    expect(parsed[4]).toEqual({ type: 'done' });
  });

  test('text: the answer as plain UTF-8 and nothing else', async () => {
    const mock = await mockWith({
      tokens: ['Grüße', ' 👋', ' end'],
      reasoning: 'thinking',
      toolCalls: [{ name: 'f', arguments: '{}' }],
    });
    const relay = await relayServer(mock, { pipeOptions: { format: 'text' } });
    const res = await fetch(relay.url);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('Grüße 👋 end');
  });

  test('openai: the official openai client reads text, tool calls and usage from the relay', async () => {
    const mock = await mockWith({
      tokens: ['The answer', ' is'],
      toolCalls: [
        { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
        { id: 'call_2', name: 'get_time', arguments: { tz: 'Europe/Paris' } },
      ],
      usage: { inputTokens: 21, outputTokens: 9 },
    });
    const requests = [];
    const app = express();
    app.use(express.json());
    app.post('/v1/chat/completions', (req, res) => {
      requests.push(req.body);
      const s = mockStream(mock, { body: { model: req.body.model, messages: req.body.messages } });
      s.pipe(res, { format: 'openai' });
    });
    const relay = await startServer(app);
    cleanups.push(() => relay.close());

    const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: 'not-used-by-the-relay', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'weather?' }],
      stream: true,
    });
    let text = '';
    const calls = [];
    let usage;
    let finishReason;
    for await (const chunk of completion) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) text += choice.delta.content;
      for (const call of choice.delta.tool_calls || []) {
        calls[call.index] ??= { id: '', name: '', arguments: '' };
        if (call.id) calls[call.index].id = call.id;
        if (call.function?.name) calls[call.index].name += call.function.name;
        if (call.function?.arguments) calls[call.index].arguments += call.function.arguments;
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    expect(requests).toHaveLength(1);
    expect(text).toBe('The answer is');
    expect(calls).toEqual([
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
      { id: 'call_2', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
    ]);
    expect(finishReason).toBe('tool_calls');
    expect(usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 });
  });

  test('ui-message: the AI SDK reads the text through parseJsonEventStream and readUIMessageStream', async () => {
    const mock = await mockWith({ tokens: ['Hello', ' from', ' the', ' relay'] });
    const relay = await relayServer(mock, { pipeOptions: { format: 'ui-message' } });
    const res = await fetch(relay.url, { method: 'POST' });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const chunks = parseJsonEventStream({ stream: res.body, schema: uiMessageChunkSchema }).pipeThrough(
      new TransformStream({
        transform(result, controller) {
          if (!result.success) throw result.error;
          controller.enqueue(result.value);
        },
      }),
    );
    let last;
    for await (const message of readUIMessageStream({ stream: chunks, terminateOnError: true })) last = message;
    expect(last.role).toBe('assistant');
    const text = last.parts
      .filter((p) => p.type === 'text')
      .map((p) => p.text)
      .join('');
    expect(text).toBe('Hello from the relay');
    expect(last.metadata).toMatchObject({ usage: { inputTokens: 10, outputTokens: 4 } });
  });

  test('opts.headers adds response headers, and a Headers object works too', async () => {
    const mock = await mockWith({ tokens: 'x' });
    const headers = new Headers({ 'Access-Control-Allow-Origin': '*' });
    headers.append('X-Trace', 'a');
    const relay = await relayServer(mock, { pipeOptions: { headers } });
    const res = await fetch(relay.url);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-trace')).toBe('a');
    await res.text();
    const relay2 = await relayServer(mock, {
      pipeOptions: { headers: { 'X-Request-Id': 'r1', 'Set-Cookie': ['a=1', 'b=2'] } },
    });
    const res2 = await fetch(relay2.url);
    expect(res2.headers.get('x-request-id')).toBe('r1');
    expect(res2.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    await res2.text();
  });

  test('a client disconnect mid-stream closes the upstream request within 500 ms and rejects with ABORTED', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 200 }, (_, i) => `t${i} `), delayMs: 20 });
    const relay = await relayServer(mock);
    const client = rawRequest(relay.port);
    await within(client.waitFor('"text":"t2 "'), 5000, 'the first tokens');
    const [request] = await mock.waitForRequests(1);
    const cutAt = Date.now();
    client.socket.destroy();
    await within(request.closed, 2000, 'the upstream request closing');
    expect(Date.now() - cutAt).toBeLessThan(500);
    expect(request.endedByClient).toBe(true);
    expect(request.completed).toBe(false);
    const { error } = await within(relay.results[0], 2000, 'the pipe promise settling');
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe('ABORTED');
    expect(error.name).toBe('AbortError');
    expect(error.partial.text).toMatch(/^t0 t1 t2 /);
  });

  test('a disconnect while waiting for the provider (errorStatus) also closes the upstream request', async () => {
    const mock = await mockWith({ hang: true });
    const relay = await relayServer(mock, { pipeOptions: { errorStatus: true } });
    const client = rawRequest(relay.port);
    const [request] = await within(mock.waitForRequests(1), 5000, 'the upstream request');
    await sleep(50);
    expect(client.text()).toBe(''); // errorStatus: no head before the provider answers
    client.socket.destroy();
    await within(request.closed, 2000, 'the upstream request closing');
    const { error } = await within(relay.results[0], 2000, 'the pipe promise settling');
    expect(error.code).toBe('ABORTED');
  });

  test('sends ": ping" heartbeats while the provider is silent', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });
    const relay = await relayServer(mock, { pipeOptions: { heartbeatMs: 50 } });
    const client = rawRequest(relay.port);
    await within(client.waitFor('"text":"b"'), 5000, 'the tokens before the stall');
    await within(client.waitFor(': ping\n\n'), 2000, 'a first heartbeat');
    const afterFirst = client.text().lastIndexOf(': ping');
    await within(
      (async () => {
        for (let i = 0; i < 40 && client.text().lastIndexOf(': ping') === afterFirst; i++) await sleep(25);
      })(),
      2000,
      'a second heartbeat',
    );
    const { body } = parseRawResponse(client.text());
    expect(body.startsWith('data: {"type":"text","text":"a"}\n\ndata: {"type":"text","text":"b"}\n\n: ping\n\n')).toBe(
      true,
    );
    expect(body.split(': ping\n\n').length - 1).toBeGreaterThanOrEqual(2);
    client.socket.destroy();
    const [request] = mock.requests;
    await within(request.closed, 2000, 'the upstream request closing');
  });

  test('no heartbeat bytes in the text format, and none at heartbeatMs: 0', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c'], stallAfter: 2 });
    for (const pipeOptions of [
      { format: 'text', heartbeatMs: 20 },
      { format: 'sse', heartbeatMs: 0 },
    ]) {
      const relay = await relayServer(mock, { pipeOptions });
      const client = rawRequest(relay.port);
      // Wait on the de-chunked body: 'a' and 'b' may travel in separate chunks.
      const wanted = pipeOptions.format === 'text' ? 'ab' : '"text":"b"';
      await within(
        (async () => {
          while (!parseRawResponse(client.text()).body.includes(wanted)) await sleep(10);
        })(),
        5000,
        'the tokens before the stall',
      );
      const before = client.text();
      await sleep(200);
      expect(client.text()).toBe(before);
      client.socket.destroy();
    }
  });

  test('ndjson heartbeats are blank lines', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c'], stallAfter: 1 });
    const relay = await relayServer(mock, { pipeOptions: { format: 'ndjson', heartbeatMs: 30 } });
    const client = rawRequest(relay.port);
    await within(client.waitFor('{"type":"text","text":"a"}\n'), 5000, 'the first token');
    await within(
      (async () => {
        while (!parseRawResponse(client.text()).body.endsWith('}\n\n\n')) await sleep(20);
      })(),
      2000,
      'two blank lines',
    );
    client.socket.destroy();
  });

  test('an error after the 200 goes out as event: error, then the response ends', async () => {
    const mock = await mockWith({
      tokens: ['a', 'b', 'c'],
      midStreamError: { after: 2, type: 'server_error', message: 'boom' },
    });
    const relay = await relayServer(mock, { streamOptions: { retry: { attempts: 0 } } });
    const client = rawRequest(relay.port);
    const raw = await within(client.closed, 5000, 'the response ending');
    const { status, body, complete } = parseRawResponse(raw);
    expect(status).toBe(200);
    expect(complete).toBe(true);
    const events = body.split('\n\n');
    expect(events.pop()).toBe('');
    expect(events.slice(0, 2)).toEqual(['data: {"type":"text","text":"a"}', 'data: {"type":"text","text":"b"}']);
    const last = events[events.length - 1];
    expect(last.startsWith('event: error\ndata: ')).toBe(true);
    const error = JSON.parse(last.slice('event: error\ndata: '.length));
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(error.message).toContain('boom');
    expect(body).not.toContain('[DONE]');
    const result = await relay.results[0];
    expect(result.error.code).toBe('PROVIDER_ERROR');
  });

  test('the openai format carries a mid-stream error as an error the openai client throws', async () => {
    const mock = await mockWith({ tokens: ['a', 'b'], midStreamError: { after: 1, message: 'kaput' } });
    const app = express();
    app.post('/v1/chat/completions', (req, res) => {
      mockStream(mock, { retry: { attempts: 0 } }).pipe(res, { format: 'openai' });
    });
    const relay = await startServer(app);
    cleanups.push(() => relay.close());
    const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of completion) text += chunk.choices[0]?.delta?.content || '';
      })(),
    ).rejects.toMatchObject({ code: 'PROVIDER_ERROR' });
    expect(text).toBe('a');
  });

  test('text cannot carry an error: the response is cut short instead of ending cleanly', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c'], midStreamError: { after: 2 } });
    const relay = await relayServer(mock, {
      pipeOptions: { format: 'text' },
      streamOptions: { retry: { attempts: 0 } },
    });
    const client = rawRequest(relay.port);
    const raw = await within(client.closed, 5000, 'the connection closing');
    const { status, body, complete } = parseRawResponse(raw);
    expect(status).toBe(200);
    expect(body).toBe('ab');
    expect(complete).toBe(false); // no terminating 0-length chunk
    await expect(fetch(relay.url).then((r) => r.text())).rejects.toThrow();
  });

  test('a provider 429 before the stream becomes HTTP 429 with Retry-After when errorStatus is on', async () => {
    const mock = await mockWith({ status: 429, headers: { 'retry-after': '7' } });
    const relay = await relayServer(mock, {
      pipeOptions: { errorStatus: true, headers: { 'Access-Control-Allow-Origin': '*' } },
      streamOptions: { retry: { attempts: 0 } },
    });
    const res = await fetch(relay.url, { method: 'POST' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      error: { code: 'HTTP_STATUS', message: 'The provider answered HTTP 429', status: 429, retryAfterMs: 7000 },
    });
    const { error } = await relay.results[0];
    expect(error.code).toBe('HTTP_STATUS');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(7000);
  });

  test('Retry-After rounds a millisecond hint up to whole seconds', async () => {
    const mock = await mockWith({ status: 429, headers: { 'retry-after-ms': '1200' } });
    const relay = await relayServer(mock, {
      pipeOptions: { errorStatus: true },
      streamOptions: { retry: { attempts: 0 } },
    });
    const res = await fetch(relay.url);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    await res.text();
  });

  test('without errorStatus, a provider 429 is a 200 with an event: error carrying the status and Retry-After', async () => {
    const mock = await mockWith({ status: 429, headers: { 'retry-after': '7' } });
    const relay = await relayServer(mock, { streamOptions: { retry: { attempts: 0 } } });
    const res = await fetch(relay.url, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = await res.text();
    expect(body).toBe(
      'event: error\ndata: {"code":"HTTP_STATUS","message":"The provider answered HTTP 429","status":429,"retryAfterMs":7000}\n\n',
    );
  });

  test('errorStatus: a timeout before the stream is 504, another provider error is 502', async () => {
    const hanging = await mockWith({ hang: true });
    const relay = await relayServer(hanging, {
      pipeOptions: { errorStatus: true },
      streamOptions: { retry: { attempts: 0 }, timeouts: { firstByteMs: 150 } },
    });
    const res = await fetch(relay.url);
    expect(res.status).toBe(504);
    expect((await res.json()).error.code).toBe('TIMEOUT_FIRST_BYTE');

    const failing = await mockWith({ status: 401 });
    const relay2 = await relayServer(failing, {
      pipeOptions: { errorStatus: true },
      streamOptions: { retry: { attempts: 0 } },
    });
    const res2 = await fetch(relay2.url);
    expect(res2.status).toBe(502);
    expect(res2.headers.get('retry-after')).toBe(null);
    const body = await res2.json();
    // The provider's error body (which may name the account or a masked key) stays on the server.
    expect(body).toEqual({ error: { code: 'HTTP_STATUS', message: 'The provider answered HTTP 401', status: 401 } });
  });

  test('errorStatus: a successful stream sends the streaming headers once the provider answered', async () => {
    const mock = await mockWith({ tokens: 'ok then', ttftMs: 50 });
    const relay = await relayServer(mock, { pipeOptions: { errorStatus: true } });
    const res = await fetch(relay.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    const body = await res.text();
    expect(body.startsWith('data: {"type":"text","text":"ok"}\n\n')).toBe(true);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  test('flushMs coalesces the writes of a fast stream', async () => {
    const tokens = Array.from({ length: 30 }, (_, i) => `w${i} `);
    const mock = await mockWith({ tokens, delayMs: 15 });
    const countChunks = async (pipeOptions) => {
      const relay = await relayServer(mock, { pipeOptions });
      const client = rawRequest(relay.port);
      const raw = await within(client.closed, 5000, 'the response');
      const { body } = parseRawResponse(raw);
      expect(body).toContain(`"text":"w29 "`);
      expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
      return parseRawResponse(raw).chunks;
    };
    const plain = await countChunks({});
    const coalesced = await countChunks({ flushMs: 150 });
    expect(plain).toBeGreaterThan(10);
    expect(coalesced).toBeLessThan(plain / 2);
  });

  test('ignoring the promise of a failed pipe causes no unhandled rejection', async () => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const mock = await mockWith({ status: 500 });
      const server = await startServer((req, res) => {
        mockStream(mock, { retry: { attempts: 0 } }).pipe(res); // not awaited, no catch
      });
      cleanups.push(() => server.close());
      const body = await (await fetch(server.url)).text();
      expect(body).toContain('event: error');
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a stream aborted before pipe() ends the response with an ABORTED error event', async () => {
    const mock = await mockWith({ tokens: 'x' });
    const results = [];
    const server = await startServer((req, res) => {
      const controller = new AbortController();
      controller.abort(new Error('gone'));
      const s = mockStream(mock, { signal: controller.signal });
      results.push(
        s.pipe(res).then(
          () => 'resolved',
          (err) => err,
        ),
      );
    });
    cleanups.push(() => server.close());
    const client = rawRequest(server.port);
    const raw = await within(client.closed, 3000, 'the response closing');
    // The worker never saw this stream, so JavaScript encodes the same error
    // event it would have written.
    const { complete, body } = parseRawResponse(raw);
    expect(complete).toBe(true);
    expect(body).toBe('event: error\ndata: {"code":"ABORTED","message":"The stream was aborted: gone"}\n\n');
    const error = await results[0];
    expect(error.code).toBe('ABORTED');
    expect(mock.requests).toHaveLength(0);
  });
});

describe('pipe(res) on the node:http2 compatibility API', () => {
  async function h2Relay(mock) {
    const server = http2.createServer((req, res) => {
      mockStream(mock)
        .pipe(res)
        .catch(() => {});
    });
    const sessions = new Set();
    server.on('session', (session) => sessions.add(session));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = http2.connect(`http://127.0.0.1:${server.address().port}`);
    client.on('error', () => {});
    cleanups.push(async () => {
      client.destroy();
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    return client;
  }

  test('streams with the same headers minus Connection, which HTTP/2 forbids', async () => {
    const mock = await mockWith({ tokens: ['h', '2'] });
    const client = await h2Relay(mock);
    const req = client.request({ ':method': 'POST', ':path': '/' });
    req.end();
    const [headers, body] = await within(
      new Promise((resolve, reject) => {
        let head;
        let text = '';
        req.on('response', (h) => {
          head = h;
        });
        req.setEncoding('utf8');
        req.on('data', (d) => {
          text += d;
        });
        req.on('end', () => resolve([head, text]));
        req.on('error', reject);
      }),
      5000,
      'the HTTP/2 response',
    );
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers['cache-control']).toBe('no-cache, no-transform');
    expect(headers['x-accel-buffering']).toBe('no');
    expect(headers.connection).toBe(undefined);
    expect(body.startsWith('data: {"type":"text","text":"h"}\n\ndata: {"type":"text","text":"2"}\n\n')).toBe(true);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  test('a reset HTTP/2 stream closes the upstream request', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 100 }, (_, i) => `t${i} `), delayMs: 20 });
    const client = await h2Relay(mock);
    const req = client.request({ ':method': 'POST', ':path': '/' });
    req.on('error', () => {});
    req.end();
    let text = '';
    req.setEncoding('utf8');
    await within(
      new Promise((resolve) => {
        req.on('data', (d) => {
          text += d;
          if (text.includes('"text":"t1 "')) resolve();
        });
      }),
      5000,
      'the first tokens',
    );
    const [request] = await mock.waitForRequests(1);
    req.close(http2.constants.NGHTTP2_CANCEL);
    await within(request.closed, 2000, 'the upstream request closing');
    expect(request.completed).toBe(false);
  });
});

describe('pipe(res) argument checks', () => {
  let mock;
  beforeEach(async () => {
    mock = await mockWith({ tokens: 'x' });
  });

  async function withResponse(fn) {
    let outcome;
    const server = await startServer((req, res) => {
      const s = mockStream(mock);
      try {
        outcome = fn(s, res);
      } catch (err) {
        outcome = err;
      }
      s.abort();
      if (!res.headersSent) res.end('untouched');
      else res.end();
    });
    cleanups.push(() => server.close());
    const res = await fetch(server.url);
    return { outcome, body: await res.text(), status: res.status };
  }

  test('an unknown format throws INVALID_ARGUMENT listing the formats, leaving res untouched', async () => {
    const { outcome, body } = await withResponse((s, res) => s.pipe(res, { format: 'xml' }));
    expect(outcome).toBeInstanceOf(RelayError);
    expect(outcome.code).toBe('INVALID_ARGUMENT');
    expect(outcome.message).toBe(
      "Expected format to be one of 'sse', 'openai', 'ui-message', 'ndjson', 'text' but received the string \"xml\"",
    );
    expect(body).toBe('untouched');
  });

  test.each([
    [{ heartbeatMs: -1 }, /heartbeatMs but received number -1/],
    [{ heartbeatMs: 1.5 }, /heartbeatMs but received number 1.5/],
    [{ flushMs: '10' }, /flushMs but received the string "10"/],
    [{ flushMs: 2 ** 31 }, /flushMs/],
    [{ errorStatus: 'yes' }, /boolean for errorStatus/],
    [{ headers: { 'X-Bad': 'a\r\nInjected: 1' } }, /line break/],
    [{ headers: { 'bad name': 'x' } }, /valid header name/],
    [{ heartbeat: 10 }, /Unknown option "heartbeat"/],
    ['sse', /Expected an object/],
  ])('rejects %p synchronously', async (opts, message) => {
    const { outcome, body } = await withResponse((s, res) => s.pipe(res, opts));
    expect(outcome).toBeInstanceOf(RelayError);
    expect(outcome.code).toBe('INVALID_ARGUMENT');
    expect(outcome.message).toMatch(message);
    expect(body).toBe('untouched');
  });

  test('a stream that is already being read cannot be piped', async () => {
    const { outcome, body } = await withResponse((s, res) => {
      s.getReader();
      return s.pipe(res);
    });
    expect(outcome.code).toBe('INVALID_ARGUMENT');
    expect(body).toBe('untouched');
  });

  test('something that is not a ServerResponse is rejected', async () => {
    const { outcome } = await withResponse((s) => s.pipe({}));
    expect(outcome.code).toBe('INVALID_ARGUMENT');
    expect(outcome.message).toMatch(/ServerResponse/);
  });
});

describe('pipe(res) in Express 5', () => {
  test('relays a route handler answer, and an awaited pipe resolves', async () => {
    const mock = await mockWith({ tokens: ['Ex', 'press'] });
    const summaries = [];
    const app = express();
    app.post('/chat', async (req, res) => {
      summaries.push(await mockStream(mock).pipe(res));
    });
    const server = await startServer(app);
    cleanups.push(() => server.close());
    const res = await fetch(`${server.url}/chat`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('x-powered-by')).toBe('Express');
    expect(withoutUsage(await res.text())).toBe(
      'data: {"type":"text","text":"Ex"}\n\ndata: {"type":"text","text":"press"}\n\n' +
        'data: {"type":"finish","reason":"stop","raw":"stop"}\n\n<usage>data: [DONE]\n\n',
    );
    await within(
      (async () => {
        while (summaries.length === 0) await sleep(5);
      })(),
      2000,
      'the summary',
    );
    expect(summaries[0].text).toBe('Express');
  });

  test('behind compression() the tokens arrive as they are generated, uncompressed (no-transform)', async () => {
    const mock = await mockWith({ tokens: ['one', ' two', ' three', ' four', ' five'], delayMs: 120 });
    const app = express();
    app.use(compression({ threshold: 0 }));
    app.get('/chat', (req, res) => {
      mockStream(mock).pipe(res);
    });
    const server = await startServer(app);
    cleanups.push(() => server.close());
    const client = rawRequest(server.port, {
      method: 'GET',
      path: '/chat',
      headers: { 'Accept-Encoding': 'gzip, deflate, br' },
    });
    const firstAt = await within(
      client.waitFor('"text":"one"').then(() => Date.now()),
      5000,
      'the first token',
    );
    await within(client.closed, 5000, 'the end of the response');
    const lastAt = Date.now();
    const { headers, body } = parseRawResponse(client.text());
    expect(headers['content-encoding']).toBe(undefined);
    expect(body).toContain('"text":" five"');
    // Five tokens 120 ms apart: the first must arrive long before the last.
    expect(lastAt - firstAt).toBeGreaterThan(300);
  });

  test('when compression() does compress (no-transform overridden), res.flush() keeps it incremental', async () => {
    const mock = await mockWith({ tokens: ['one', ' two', ' three', ' four'], delayMs: 120 });
    const app = express();
    app.use(compression({ threshold: 0 }));
    app.get('/chat', (req, res) => {
      mockStream(mock).pipe(res, { headers: { 'Cache-Control': 'no-cache' } });
    });
    const server = await startServer(app);
    cleanups.push(() => server.close());
    // Decompress as the bytes arrive: the first token must decode long before the end.
    const { encoding, firstAt, endAt, text } = await within(
      new Promise((resolve, reject) => {
        const req = http.get(`${server.url}/chat`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          const gunzip = zlib.createGunzip();
          let decoded = '';
          let first;
          gunzip.on('data', (d) => {
            decoded += d;
            if (first === undefined && decoded.includes('"text":"one"')) first = Date.now();
          });
          gunzip.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], firstAt: first, endAt: Date.now(), text: decoded }),
          );
          gunzip.on('error', reject);
          res.pipe(gunzip);
        });
        req.on('error', reject);
      }),
      5000,
      'the compressed response',
    );
    expect(encoding).toBe('gzip');
    expect(text).toContain('"text":" four"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(endAt - firstAt).toBeGreaterThan(250);
  });
});

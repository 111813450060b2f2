'use strict';

// s.pipeWebSocket(ws) with a Node `ws` client: one message per delta, the end
// message, in-band errors with their status, {"type":"stop"} and a closed
// socket aborting the provider request (checked on the mock's side), a second
// stream on the same socket, and backpressure from a client that stops
// reading.

const { WebSocketServer, WebSocket } = require('ws');
const { startServer, startMockProvider, mockStream, within, sleep } = require('./relay-helpers');

const cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()();
});

/**
 * A server whose WebSocket clients send {"script": …} to start a stream;
 * `onStream(s, ws, request)` relays it (default: pipeWebSocket(ws)).
 */
async function wsRelay(mock, { streamOptions = {}, pipeOptions, onStream } = {}) {
  const results = [];
  const sockets = [];
  const server = await startServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: server.server });
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const request = JSON.parse(data.toString());
      if (request.type === 'stop') return; // the relay in flight handles it
      const s = mockStream(mock, {
        body: { model: 'm', messages: [{ role: 'user', content: JSON.stringify(request.script) }] },
        retry: false,
        ...streamOptions,
      });
      const relayed = onStream ? onStream(s, ws, request) : s.pipeWebSocket(ws, pipeOptions);
      results.push(
        relayed.then(
          (summary) => ({ summary }),
          (error) => ({ error }),
        ),
      );
    });
  });
  cleanups.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await server.close();
  });
  return { url: `ws://127.0.0.1:${server.port}`, results, sockets };
}

/**
 * A mock whose script is the JSON the client sent as its message content; `repeat: { token,
 * count }` stands for a long token list, which would not fit in a request body.
 */
async function scriptedMock() {
  const mock = await startMockProvider({
    provider: 'openai',
    script: (request) => {
      const { repeat, ...script } = JSON.parse(request.body.messages[0].content);
      return repeat ? { ...script, tokens: Array.from({ length: repeat.count }, () => repeat.token) } : script;
    },
  });
  cleanups.push(() => mock.close());
  return mock;
}

/** A ws client that records every text message it receives. */
async function connect(url) {
  const ws = new WebSocket(url);
  const messages = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    messages.push({ text: data.toString(), isBinary });
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  cleanups.push(() => ws.terminate());
  const closed = new Promise((resolve) => ws.once('close', resolve));
  /** Resolves once a message satisfies `test` (each message is parsed and tested once). */
  const waitFor = async (test, ms = 5000) => {
    const deadline = Date.now() + ms;
    let checked = 0;
    const found = () => {
      for (; checked < messages.length; checked++) if (test(JSON.parse(messages[checked].text))) return true;
      return false;
    };
    while (!found()) {
      if (Date.now() > deadline) {
        const last = messages.slice(-5).map((m) => m.text.slice(0, 200));
        throw new Error(`no such message within ${ms} ms; got ${messages.length}, the last: ${last.join(' | ')}`);
      }
      await new Promise((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return { ws, messages, waitFor, closed, json: () => messages.map((m) => JSON.parse(m.text)) };
}

test('each delta is one JSON text message, then {"type":"done"}', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock);
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { tokens: ['Hel', 'lo', ' wörld'], delayMs: 5 } }));
  await client.waitFor((m) => m.type === 'done');
  expect(client.messages.every((m) => m.isBinary === false)).toBe(true);
  const json = client.json();
  expect(json.filter((m) => m.type === 'text').map((m) => m.text)).toEqual(['Hel', 'lo', ' wörld']);
  expect(json.map((m) => m.type)).toEqual(['text', 'text', 'text', 'finish', 'usage', 'done']);
  expect(json[json.length - 1]).toEqual({ type: 'done' });
  const { summary } = await relay.results[0];
  expect(summary.text).toBe('Hello wörld');
});

test('a provider 429 arrives as an error message with its status and Retry-After', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock);
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { status: 429, headers: { 'retry-after': '20' } } }));
  await client.waitFor((m) => m.type === 'error');
  expect(client.json()).toEqual([
    { type: 'error', code: 'HTTP_STATUS', message: 'The provider answered HTTP 429', status: 429, retryAfterMs: 20000 },
  ]);
  const { error } = await relay.results[0];
  expect(error.code).toBe('HTTP_STATUS');
});

test('{"type":"stop"} aborts the provider request at once and the end message follows at once', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock);
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { tokens: Array.from({ length: 200 }, (_, i) => `t${i} `), delayMs: 20 } }));
  await client.waitFor((m) => m.type === 'text');
  const [record] = await mock.waitForRequests(1);
  const stoppedAt = Date.now();
  client.ws.send('{"type":"stop"}');
  await client.waitFor((m) => m.type === 'error');
  await within(record.closed, 2000, 'the provider request closing');
  expect(Date.now() - stoppedAt).toBeLessThan(1000);
  expect(record.completed).toBe(false);
  const json = client.json();
  expect(json[json.length - 1]).toEqual({ type: 'error', code: 'ABORTED', message: 'The client stopped the stream' });
  const { error } = await relay.results[0];
  expect(error.code).toBe('ABORTED');
  // Nothing of the stopped stream follows its end message.
  const count = client.messages.length;
  await sleep(150);
  expect(client.messages.length).toBe(count);
});

test('a stop then a new request on the same socket: the second answer never mixes with the first', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock);
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { tokens: Array.from({ length: 500 }, () => 'old '), delayMs: 2 } }));
  await client.waitFor((m) => m.type === 'text');
  client.ws.send('{"type":"stop"}');
  client.ws.send(JSON.stringify({ script: { tokens: ['new ', 'answer'], delayMs: 5 } }));
  await client.waitFor((m) => m.type === 'done');
  const json = client.json();
  const end = json.findIndex((m) => m.type === 'error');
  expect(json[end].code).toBe('ABORTED');
  expect(json.slice(0, end).every((m) => m.type !== 'text' || m.text === 'old ')).toBe(true);
  expect(
    json
      .slice(end + 1)
      .filter((m) => m.type === 'text')
      .map((m) => m.text),
  ).toEqual(['new ', 'answer']);
  expect((await relay.results[1]).summary.text).toBe('new answer');
});

test('a second pipeWebSocket on a busy socket stops the first, whose end message goes out first', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock);
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { tokens: Array.from({ length: 500 }, () => 'old '), delayMs: 5 } }));
  await client.waitFor((m) => m.type === 'text');
  client.ws.send(JSON.stringify({ script: { tokens: ['new'] } }));
  await client.waitFor((m) => m.type === 'done');
  const json = client.json();
  const end = json.findIndex((m) => m.type === 'error');
  expect(json[end]).toEqual({ type: 'error', code: 'ABORTED', message: 'A new stream started on this WebSocket' });
  expect(
    json
      .slice(end + 1)
      .filter((m) => m.type === 'text')
      .map((m) => m.text),
  ).toEqual(['new']);
  const [first] = await mock.waitForRequests(2);
  await within(first.closed, 2000, 'the first provider request closing');
  expect(first.completed).toBe(false);
});

test('a closed socket aborts the provider request', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock);
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { tokens: Array.from({ length: 200 }, () => 'x '), delayMs: 20 } }));
  await client.waitFor((m) => m.type === 'text');
  const [record] = await mock.waitForRequests(1);
  client.ws.terminate();
  await within(record.closed, 2000, 'the provider request closing');
  expect(record.completed).toBe(false);
  const { error } = await relay.results[0];
  expect(error.code).toBe('ABORTED');
});

test('bad arguments throw INVALID_ARGUMENT and leave the stream unconsumed', async () => {
  const mock = await scriptedMock();
  const s = mockStream(mock, {
    body: { model: 'm', messages: [{ role: 'user', content: JSON.stringify({ tokens: 'ok' }) }] },
  });
  expect(() => s.pipeWebSocket({})).toThrow(
    expect.objectContaining({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('Expected a WebSocket from the ws package'),
    }),
  );
  const fake = { send() {}, on() {}, ping() {}, readyState: 1 };
  expect(() => s.pipeWebSocket(fake, { heartbeat: 5 })).toThrow(
    'Unknown option "heartbeat" in the pipeWebSocket() options; expected one of heartbeatMs, maxBufferedBytes',
  );
  expect(() => s.pipeWebSocket(fake, { maxBufferedBytes: 0 })).toThrow(
    'Expected a positive integer for maxBufferedBytes but received number 0',
  );
  expect((await s.done).text).toBe('ok');
});

test('a client that stops reading pauses the provider transfer; reading again delivers every delta', async () => {
  const TOKEN = 'y'.repeat(1000);
  // ~20 MB of text: far more than the loopback socket buffers hold (several MB on Linux, which
  // autotunes them up to tcp_wmem / tcp_rmem max), so the relay must stop sending. (Measured: the
  // mock had sent 4-6 MB when the pause held. With 40,000 tokens the peak bufferedAmount once
  // reached 4.2 MB on a loaded machine, against 2.97 MB at most over 21 runs of this size.)
  const TOKENS = 20_000;
  const mock = await scriptedMock();
  let sent = 0;
  let maxBuffered = 0;
  const relay = await wsRelay(mock, {
    onStream: (s, ws) => {
      const send = ws.send;
      ws.send = function countingSend(data, ...rest) {
        sent += data.length;
        maxBuffered = Math.max(maxBuffered, this.bufferedAmount);
        return send.call(this, data, ...rest);
      };
      return s.pipeWebSocket(ws, { maxBufferedBytes: 64 * 1024 });
    },
  });
  const client = await connect(relay.url);
  client.ws.send(JSON.stringify({ script: { repeat: { token: TOKEN, count: TOKENS } } }));
  await client.waitFor((m) => m.type === 'text');
  client.ws._socket.pause(); // stop reading: the kernel buffers fill, then ws buffers

  let last = -1;
  let stableSince = Date.now();
  for (let i = 0; i < 100 && Date.now() - stableSince < 600; i++) {
    await sleep(100);
    if (sent !== last) {
      last = sent;
      stableSince = Date.now();
    }
  }
  const [record] = mock.requests;
  expect(Date.now() - stableSince).toBeGreaterThanOrEqual(600); // the sends did stop
  expect(sent).toBeLessThan(0.6 * TOKENS * TOKEN.length);
  expect(record.completed).toBe(false);
  // Bounded: the limit, plus the batch that crossed it (written whole), plus at most one batch the
  // worker filled while JavaScript wrote that one. A batch is the worker's outbox: it stops reading
  // past 1 MiB, so a batch is 1 MiB plus what one socket wakeup read (~3 MB in all at most). The
  // backlog resume is posted after JavaScript's pause, so no third batch slips in between.
  expect(maxBuffered).toBeLessThan(4 * 1024 * 1024);
  if (process.env.LLM_RELAY_REPORT)
    console.log(
      `ws backpressure: sent ${sent} of ${TOKENS * TOKEN.length} bytes before the pause held; max bufferedAmount ${maxBuffered}`,
    );

  client.ws._socket.resume();
  await client.waitFor((m) => m.type === 'done', 30_000);
  const text = client
    .json()
    .filter((m) => m.type === 'text')
    .map((m) => m.text)
    .join('');
  expect(text.length).toBe(TOKENS * TOKEN.length);
  expect((await relay.results[0]).summary.text.length).toBe(TOKENS * TOKEN.length);
}, 60_000);

test('heartbeats are WebSocket pings while the provider is silent', async () => {
  const mock = await scriptedMock();
  const relay = await wsRelay(mock, { pipeOptions: { heartbeatMs: 50 } });
  const client = await connect(relay.url);
  let pings = 0;
  client.ws.on('ping', () => {
    pings += 1;
  });
  client.ws.send(JSON.stringify({ script: { tokens: ['a', 'b'], ttftMs: 400 } }));
  await client.waitFor((m) => m.type === 'done');
  expect(pings).toBeGreaterThanOrEqual(3);
});

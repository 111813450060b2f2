'use strict';

// Resumable relays end to end on the memory store: a real HTTP server on
// 127.0.0.1, the mock provider, clients that drop and come back.

const { stream, createMemoryStore } = require('../../lib');
const { startMockProvider, splitTokens } = require('../../lib/testing');
const { startServer, within } = require('../integration/relay-helpers');
const { parseSse } = require('../helpers/sse');
const { readEvents, idsOf, textOf } = require('./relay-client');
const { until } = require('./helpers');

const ANSWER = 'The quick brown fox jumps over the lazy dog while the relay keeps every word for later';

let mock;
let store;
let server;
let script;
let producers; // id -> the pipe() promise, settled
let streams; // id -> the LLMStream

function llm() {
  return stream({
    provider: 'openai',
    baseURL: mock.baseURL('openai'),
    apiKey: 'sk-test',
    body: { model: 'gpt-4o-mini', messages: [] },
  });
}

beforeAll(async () => {
  mock = await startMockProvider({ script: () => script });
});

afterAll(async () => {
  await mock.close();
});

beforeEach(async () => {
  script = { tokens: ANSWER, delayMs: 15 };
  store = createMemoryStore();
  producers = new Map();
  streams = new Map();
  server = await startServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const format = url.searchParams.get('format') || 'sse';
    if (req.method === 'POST') {
      const id = url.searchParams.get('id');
      const s = llm();
      streams.set(id, s);
      const abandonAfterMs = url.searchParams.has('abandon') ? Number(url.searchParams.get('abandon')) : undefined;
      const direct = url.searchParams.get('direct') !== '0';
      const p = s.pipe(res, { format, direct, heartbeatMs: 0, resume: { store, id, abandonAfterMs } });
      producers.set(
        id,
        p.then(
          (summary) => ({ summary }),
          (error) => ({ error }),
        ),
      );
      return;
    }
    const id = url.pathname.split('/')[2];
    const heartbeatMs = url.searchParams.has('heartbeat') ? Number(url.searchParams.get('heartbeat')) : undefined;
    store
      .resume(id, { lastEventId: req.headers['last-event-id'] })
      .pipe(res, { format, heartbeatMs })
      .catch(() => {});
  });
});

afterEach(async () => {
  await server.close();
  await store.close();
});

const start = (id, query = '', options = {}) =>
  readEvents(`${server.url}/chat?id=${id}${query}`, { method: 'POST', body: '{}', ...options });
const resume = (id, lastEventId, query = '') =>
  readEvents(`${server.url}/chat/${id}/stream${query}`, {
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  });

test.each([
  ['the worker writes the socket', '1'],
  ['Node writes the socket', '0'],
])(
  'a client that drops after 5 events reconnects with Last-Event-ID and gets exactly the rest, while the answer kept generating (%s)',
  async (_, direct) => {
    const first = await start('c1', `&direct=${direct}`, { leaveAfterIds: 5 });
    expect(first.left).toBe(true);
    expect(first.headers['llm-relay-stream-id']).toBe('c1');
    expect(first.lastId).toBe('5');
    // The upstream goes on without the client.
    await new Promise((r) => setTimeout(r, 150));
    expect(mock.requests.at(-1).closedAt).toBeUndefined();
    const rest = await resume('c1', first.lastId);
    expect(rest.status).toBe(200);
    const { summary } = await producers.get('c1');
    expect(summary.text).toBe(ANSWER);
    const request = mock.requests.at(-1);
    expect(request.completed).toBe(true);
    expect(request.endedByClient).toBe(false);
    // No gap, no duplicate: what the client had and what it got is the whole answer, byte for byte.
    const whole = await resume('c1', undefined);
    expect(first.text + rest.text).toBe(whole.text);
    expect(textOf(first.text + rest.text)).toBe(ANSWER);
    const ids = idsOf(first.text + rest.text);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(rest.text.endsWith('data: [DONE]\n\n')).toBe(true);
  },
);

test('every event carries an increasing id, with the direct socket and with Node writes', async () => {
  for (const direct of ['1', '0']) {
    const id = `ids-${direct}`;
    const res = await start(id, `&direct=${direct}`);
    expect(res.headers['llm-relay-stream-id']).toBe(id);
    const events = parseSse(res.text).events;
    const ids = idsOf(res.text);
    expect(ids.length).toBe(events.length - 1); // [DONE] has none
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(textOf(res.text)).toBe(ANSWER);
  }
});

test('reconnecting after the end gets the rest and the end; without Last-Event-ID it replays everything', async () => {
  const live = await start('c2');
  await producers.get('c2');
  const all = await resume('c2', undefined);
  expect(all.text).toBe(live.text);
  const ids = idsOf(live.text);
  const at = ids[Math.floor(ids.length / 2)];
  const rest = await resume('c2', String(at));
  const cut = live.text.indexOf(`\nid: ${at}\n\n`) + `\nid: ${at}\n\n`.length;
  expect(live.text.slice(0, cut) + rest.text).toBe(live.text);
  const last = await resume('c2', String(ids.at(-1)));
  expect(last.text).toBe('data: [DONE]\n\n');
});

test('an unknown id answers 404 with a NOT_FOUND JSON body; a bad Last-Event-ID throws INVALID_ARGUMENT', async () => {
  const res = await resume('nobody', undefined);
  expect(res.status).toBe(404);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  expect(JSON.parse(res.text)).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining('"nobody"') } });
  expect(() => store.resume('x', { lastEventId: 'abc' })).toThrow(
    expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
  );
  expect(() => store.resume('', {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  expect(() => store.resume('x', { after: 1 })).toThrow(/Unknown option "after"/);
  await expect(
    (async () => {
      for await (const d of store.resume('nobody')) void d;
    })(),
  ).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
});

test('two readers that join mid-stream each get every event once, in order, and the same bytes', async () => {
  script = { tokens: ANSWER, delayMs: 25 };
  const first = await start('c3', '', { leaveAfterIds: 2 });
  const [a, b] = await Promise.all([resume('c3', first.lastId), resume('c3', '1')]);
  const { summary } = await producers.get('c3');
  expect(summary.text).toBe(ANSWER);
  const whole = (await resume('c3', undefined)).text;
  expect(first.text + a.text).toBe(whole);
  const one = whole.indexOf('\nid: 1\n\n') + '\nid: 1\n\n'.length;
  expect(whole.slice(0, one) + b.text).toBe(whole);
});

test('store.stop(id) aborts the upstream within 200 ms and readers get an ABORTED error event', async () => {
  script = { tokens: ANSWER, delayMs: 50 };
  const first = await start('c4', '', { leaveAfterIds: 2 });
  const reader = resume('c4', first.lastId);
  await until(() => store.hasReaders('c4'), 2000, 'the reader');
  const request = mock.requests.at(-1);
  const stoppedAt = Date.now();
  await expect(store.stop('c4')).resolves.toBe(true);
  await within(request.closed, 2000, 'the upstream closing');
  expect(request.closedAt - stoppedAt).toBeLessThan(200);
  expect(request.completed).toBe(false);
  const rest = await reader;
  const events = parseSse(rest.text).events;
  expect(events.at(-1)).toEqual({ event: 'error', data: expect.stringContaining('"code":"ABORTED"') });
  const { error } = await producers.get('c4');
  expect(error.code).toBe('ABORTED');
  await expect(store.stop('c4')).resolves.toBe(false);
});

test('a second producer for a live id is refused: 409 with a JSON body, and its pipe() rejects', async () => {
  script = { tokens: ANSWER, delayMs: 30 };
  const first = start('c5');
  await until(() => producers.has('c5'), 2000, 'the first producer');
  const second = await start('c5');
  expect(second.status).toBe(409);
  expect(JSON.parse(second.text).error).toMatchObject({
    code: 'INVALID_ARGUMENT',
    message: expect.stringContaining('"c5"'),
  });
  const { error } = await producers.get('c5');
  expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', status: 409 });
  // The refused stream was aborted: its upstream request does not run on.
  await expect(streams.get('c5').done).rejects.toMatchObject({ code: 'ABORTED' });
  expect(textOf((await first).text)).toBe(ANSWER);
});

test('a store that cannot take the claim answers 503 STORE_UNAVAILABLE', async () => {
  await store.close();
  const res = await start('c6');
  expect(res.status).toBe(503);
  expect(JSON.parse(res.text).error.code).toBe('STORE_UNAVAILABLE');
});

test('each format, resumed after each event id, gives exactly the bytes the live client missed', async () => {
  script = {
    tokens: 'Tools and text',
    delayMs: 2,
    toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}' }],
    reasoning: 'Think',
  };
  for (const format of ['sse', 'openai', 'ui-message', 'ndjson', 'text']) {
    const id = `f-${format}`;
    const live = await start(id, `&format=${format}`);
    await producers.get(id);
    const all = await resume(id, undefined, `?format=${format}`);
    expect({ format, text: all.text }).toEqual({ format, text: live.text });
    for (const at of idsOf(live.text)) {
      const marker = `\nid: ${at}\n\n`;
      const rest = await resume(id, String(at), `?format=${format}`);
      expect({ format, at, text: live.text.slice(0, live.text.indexOf(marker) + marker.length) + rest.text }).toEqual({
        format,
        at,
        text: live.text,
      });
    }
  }
});

test('for await over store.resume() yields the deltas after lastEventId, then ends', async () => {
  await start('c7');
  await producers.get('c7');
  const all = [];
  for await (const d of store.resume('c7')) all.push(d);
  const after = [];
  for await (const d of store.resume('c7', { lastEventId: '3' })) after.push(d);
  expect(after).toEqual(all.slice(3));
  expect(
    all
      .filter((d) => d.type === 'text')
      .map((d) => d.text)
      .join(''),
  ).toBe(ANSWER);
  expect(all.at(-2)).toMatchObject({ type: 'finish', reason: 'stop' });
});

test('a reader following a stalled live stream gets heartbeats, then the rest', async () => {
  script = { tokens: ANSWER, stallAfter: 3 };
  const first = await start('c8', '', { leaveAfterIds: 3 });
  const reader = readEvents(`${server.url}/chat/c8/stream?heartbeat=40`, {
    headers: { 'last-event-id': first.lastId },
  });
  await new Promise((r) => setTimeout(r, 200));
  await store.stop('c8');
  const rest = await reader;
  expect(parseSse(rest.text).comments.filter((c) => c === 'ping').length).toBeGreaterThanOrEqual(2);
  expect(parseSse(rest.text).events.at(-1).event).toBe('error');
});

test('abandonAfterMs aborts a stream nobody reads, but not while a resumed reader follows it', async () => {
  script = { tokens: ANSWER, delayMs: 40 };
  await start('c9', '&abandon=150', { leaveAfterIds: 1 });
  const { error } = await within(producers.get('c9'), 3000, 'the abandoned stream ending');
  expect(error).toMatchObject({ code: 'ABORTED', message: expect.stringContaining('abandonAfterMs') });
  expect(mock.requests.at(-1).completed).toBe(false);

  const first = await start('c10', '&abandon=150', { leaveAfterIds: 1 });
  const rest = await resume('c10', first.lastId);
  const { summary } = await producers.get('c10');
  expect(summary.text).toBe(ANSWER);
  expect(textOf(first.text + rest.text)).toBe(ANSWER);
});

test('a direct-socket client that stops reading and then leaves does not stall the stream for its readers', async () => {
  // 12 MB: more than the loopback socket buffers hold.
  script = {
    tokens: Array.from({ length: 3000 }, (_, i) => `w${String(i).padStart(5, '0')} `.repeat(560)),
    eventsPerWrite: 20,
  };
  const net = require('node:net');
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST /chat?id=c11 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`);
  socket.pause(); // never read: the socket buffers fill and the transfer pauses
  await until(() => producers.has('c11'), 2000, 'the producer');
  // Paused: the provider's response is still open, well before its end.
  await new Promise((r) => setTimeout(r, 500));
  expect(mock.requests.at(-1).completed).toBe(false);
  socket.destroy();
  const { summary } = await within(producers.get('c11'), 5000, 'the stream finishing after its client left');
  expect(summary.text).toBe(splitTokens(script.tokens.join('')).join(''));
  let text = '';
  for await (const d of store.resume('c11')) if (d.type === 'text') text += d.text;
  expect(text).toBe(summary.text);
});

test('toResponse({ resume }) resolves to the stream or to a 409 Response; a resumed toResponse() answers 404 for an unknown id', async () => {
  script = { tokens: ANSWER, delayMs: 10 };
  const live = await llm().toResponse({ resume: { store, id: 'w1' } });
  expect(live.status).toBe(200);
  expect(live.headers.get('llm-relay-stream-id')).toBe('w1');
  const second = llm();
  const refused = await second.toResponse({ resume: { store, id: 'w1' } });
  expect(refused.status).toBe(409);
  expect((await refused.json()).error.code).toBe('INVALID_ARGUMENT');
  await expect(second.done).rejects.toMatchObject({ code: 'ABORTED' });
  // The live client cancels after the first chunk; the stream goes on, and a reader gets the rest.
  const reader = live.body.getReader();
  const head = new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const lastId = idsOf(head).at(-1);
  const resumed = await store.resume('w1', { lastEventId: lastId }).toResponse({ format: 'sse' });
  expect(resumed.status).toBe(200);
  const rest = await resumed.text();
  expect(textOf(head + rest)).toBe(ANSWER);
  expect(rest.endsWith('data: [DONE]\n\n')).toBe(true);
  const missing = await store.resume('w2').toResponse();
  expect(missing.status).toBe(404);
  expect((await missing.json()).error.code).toBe('NOT_FOUND');
  expect(() => llm().toResponse({ resume: { store, id: 'w3', extra: 1 } })).toThrow(/Unknown option resume.extra/);
});

test('the log reaches the store a few deltas per append (gathered on the worker for up to 50 ms), all of them before the end', async () => {
  script = { tokens: ANSWER, delayMs: 15 };
  const appends = [];
  const append = store.append.bind(store);
  store.append = (id, batch) => {
    appends.push({ first: batch.first, count: batch.count, at: Date.now() });
    return append(id, batch);
  };
  await start('c12');
  const { summary } = await producers.get('c12');
  const deltas = appends.reduce((n, a) => n + a.count, 0);
  let logged = '';
  for await (const d of store.resume('c12')) if (d.type === 'text') logged += d.text;
  expect(logged).toBe(summary.text);
  // 17 words 15 ms apart, then finish and usage: one append per read would be 19.
  expect(appends.length).toBeLessThanOrEqual(Math.ceil(deltas / 2));
  for (let i = 1; i < appends.length; i++) expect(appends[i].first).toBe(appends[i - 1].first + appends[i - 1].count);
});

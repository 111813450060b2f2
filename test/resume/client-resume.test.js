'use strict';

// readStream(input, { resume: { url } }) (llm-relay/client) against a real resumable relay on
// 127.0.0.1 whose connections drop: it reconnects with Last-Event-ID, backs off, gives up after
// its limit, and yields every delta exactly once.

const path = require('node:path');
const vm = require('node:vm');
const { pathToFileURL } = require('node:url');
const { stream, createMemoryStore } = require('../../lib');
const { startMockProvider } = require('../../lib/testing');
const { startServer } = require('../integration/relay-helpers');

const ANSWER = Array.from({ length: 60 }, (_, i) => `w${i} `).join('');

let client;
let mock;
let store;
let server;
let drops; // path -> the ms after which its next response is cut
let reconnects; // Last-Event-ID of each GET
let getStatus; // force a status on GETs

beforeAll(async () => {
  // As test/unit/client.test.js: Node's own loader, outside Jest's sandbox.
  const script = new vm.Script('(url) => import(url)', {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  client = await script.runInThisContext()(pathToFileURL(path.join(__dirname, '../../lib/client/index.mjs')).href);
  mock = await startMockProvider({ provider: 'openai', script: { tokens: ANSWER, delayMs: 15 } });
});

afterAll(async () => {
  await mock.close();
});

beforeEach(async () => {
  store = createMemoryStore();
  drops = new Map();
  reconnects = [];
  getStatus = undefined;
  server = await startServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const after = drops.get(url.pathname);
    if (after !== undefined) {
      drops.delete(url.pathname);
      setTimeout(() => req.socket.destroy(), after);
    }
    if (req.method === 'POST') {
      stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'k', body: { model: 'm', messages: [] } })
        .pipe(res, { resume: { store, id: url.searchParams.get('id') } })
        .catch(() => {});
      return;
    }
    reconnects.push(req.headers['last-event-id']);
    if (getStatus !== undefined) {
      res.writeHead(getStatus, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: getStatus === 503 ? 'STORE_UNAVAILABLE' : 'NOT_FOUND', message: 'no' } }),
      );
      return;
    }
    store
      .resume(url.pathname.split('/')[2], { lastEventId: req.headers['last-event-id'] })
      .pipe(res)
      .catch(() => {});
  });
});

afterEach(async () => {
  await server.close();
  await store.close();
});

async function read(id, resume, options = {}) {
  const deltas = [];
  let error;
  try {
    const response = fetch(`${server.url}/chat?id=${id}`, { method: 'POST' });
    for await (const d of client.readStream(response, { resume, ...options })) deltas.push(d);
  } catch (err) {
    error = err;
  }
  return {
    deltas,
    error,
    text: deltas
      .filter((d) => d.type === 'text')
      .map((d) => d.text)
      .join(''),
  };
}

test('a body cut mid-stream (twice, the reconnect too) is resumed with Last-Event-ID: every delta once, in order', async () => {
  // 15 ms per token: the first cut after about 10 tokens, the second when the reconnect had
  // about 20 more (its reader lags the live answer by up to the log's 50 ms batching).
  drops.set('/chat', 150);
  drops.set('/chat/r1/stream', 300);
  const { deltas, error, text } = await read('r1', { url: (id) => `${server.url}/chat/${id}/stream`, delayMs: 10 });
  expect(error).toBeUndefined();
  expect(text).toBe(ANSWER);
  expect(reconnects.length).toBe(2);
  expect(Number(reconnects[0])).toBeGreaterThan(0);
  expect(Number(reconnects[1])).toBeGreaterThan(Number(reconnects[0]));
  // Exactly the deltas of the stream, as a reader of the whole log sees them.
  const all = [];
  for await (const d of store.resume('r1')) all.push(d);
  expect(deltas).toEqual(all);
});

test('a store that stays unavailable: backs off, then gives up after resume.retries with its error', async () => {
  drops.set('/chat', 120);
  getStatus = 503;
  const startedAt = Date.now();
  const { error, text } = await read('r2', {
    url: `${server.url}/chat/r2/stream`,
    retries: 3,
    delayMs: 40,
    maxDelayMs: 100,
  });
  expect(error).toMatchObject({
    code: 'STORE_UNAVAILABLE',
    status: 503,
    message: expect.stringContaining('gave up after 3 reconnect attempts'),
  });
  expect(reconnects.length).toBe(3);
  expect(Date.now() - startedAt).toBeGreaterThanOrEqual(120 + 40 + 80 + 100 - 20); // the drop, then 40, 80, 100 ms
  expect(ANSWER.startsWith(text)).toBe(true);
});

test('a reconnect answered 404 fails at once with NOT_FOUND; a stream without ids is not resumed', async () => {
  drops.set('/chat', 120);
  getStatus = 404;
  const { error } = await read('r3', { url: `${server.url}/chat/r3/stream`, delayMs: 5 });
  expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  expect(reconnects.length).toBe(1);
  // A plain relay (no ids): a cut body stays TRUNCATED, never replayed twice.
  const body = new Response('data: {"type":"text","text":"a"}\n\n');
  const seen = [];
  await expect(
    (async () => {
      for await (const d of client.readStream(body, { resume: { url: `${server.url}/x`, delayMs: 0 } })) seen.push(d);
    })(),
  ).rejects.toMatchObject({ code: 'TRUNCATED' });
  expect(seen).toEqual([{ type: 'text', text: 'a' }]);
});

test('resume options are checked', async () => {
  const bad = async (resume, options = {}) => {
    const it = client.readStream(new Response(''), { resume, ...options });
    await expect(it.next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  };
  await bad(null);
  await bad({});
  await bad({ url: '/x', tries: 1 });
  await bad({ url: '/x', retries: -1 });
  await bad({ url: '/x' }, { format: 'ndjson' });
});

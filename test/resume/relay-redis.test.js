'use strict';

// Resumable relays on the Redis store, across two store instances in this process (as two app
// instances would have): a reader on the other instance counts for abandonAfterMs, and a stream
// nobody reads anywhere is abandoned.

const { stream, createRedisStore } = require('../../lib');
const { startMockProvider } = require('../../lib/testing');
const { startRedis } = require('../helpers/redis');
const { startServer, within } = require('../integration/relay-helpers');
const { readEvents, textOf } = require('./relay-client');

const ANSWER = Array.from({ length: 60 }, (_, i) => `w${i} `).join('');

let redis;
let mock;
let producer; // the store of the instance that produces
let other; // the store of another instance
let server;
let results;

beforeAll(async () => {
  redis = await startRedis();
  mock = await startMockProvider({ provider: 'openai', script: { tokens: ANSWER, delayMs: 60 } });
  producer = createRedisStore({ url: redis.url });
  other = createRedisStore({ url: redis.url });
  results = new Map();
  server = await startServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id');
    const p = stream({
      provider: 'openai',
      baseURL: mock.baseURL('openai'),
      apiKey: 'k',
      body: { model: 'm', messages: [] },
    }).pipe(res, { resume: { store: producer, id, abandonAfterMs: 400 } });
    results.set(
      id,
      p.then(
        (summary) => ({ summary }),
        (error) => ({ error }),
      ),
    );
  });
});

afterAll(async () => {
  await server.close();
  await producer.close();
  await other.close();
  await mock.close();
  await redis.stop();
});

test('a reader on another instance keeps an abandonAfterMs stream going; with no reader anywhere it is abandoned', async () => {
  const first = await readEvents(`${server.url}/?id=kept`, { method: 'POST', body: '{}', leaveAfterIds: 2 });
  // The other instance follows it to its end (about 3.5 s, far beyond abandonAfterMs).
  let text = '';
  for await (const d of other.resume('kept', { lastEventId: first.lastId })) if (d.type === 'text') text += d.text;
  expect(textOf(first.text) + text).toBe(ANSWER);
  expect(await results.get('kept')).toMatchObject({ summary: { text: ANSWER } });

  await readEvents(`${server.url}/?id=dropped`, { method: 'POST', body: '{}', leaveAfterIds: 2 });
  const startedAt = Date.now();
  const { error } = await within(results.get('dropped'), 5000, 'the abandoned stream ending');
  expect(error).toMatchObject({ code: 'ABORTED', message: expect.stringContaining('abandonAfterMs') });
  // 400 ms without a reader, checked every 100 ms.
  expect(Date.now() - startedAt).toBeLessThan(1500);
  expect(await other.hasReaders('dropped')).toBe(false);
}, 20_000);

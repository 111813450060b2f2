'use strict';

// Two instances of examples/resume/server.js (child processes) share a real redis-server behind a
// real nginx with examples/resume/nginx.conf (round-robin): what happens to a stream when the
// reconnect lands on the other instance, when the other instance is told to stop it, when the
// producing instance is killed, and when Redis goes away.

const fs = require('node:fs');
const { freePort } = require('../helpers/system');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startMockProvider } = require('../../lib/testing');
const { createRedisStore, stream } = require('../../lib');
const { startRedis } = require('../helpers/redis');
const { startNginx } = require('../helpers/nginx');
const { startServer, within } = require('../integration/relay-helpers');
const { parseSse } = require('../helpers/sse');
const { readEvents, idsOf, textOf } = require('./relay-client');

const ROOT = path.join(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/resume/server.js');
const SITE = fs.readFileSync(path.join(ROOT, 'examples/resume/nginx.conf'), 'utf8');

const LONG = Array.from({ length: 60 }, (_, i) => `word${i} `).join('');
const SCRIPTS = {
  slow: { tokens: LONG, delayMs: 40 },
  fast: { tokens: 'A short answer', delayMs: 5 },
};

let redis;
let mock;
let nginx;
const instances = {}; // name -> { port, child, exited }

/** Starts (or restarts) instance `name` of the example on `port`; resolves once it listens. */
function startInstance(name, port) {
  const child = spawn(process.execPath, [EXAMPLE], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      INSTANCE: name,
      REDIS_URL: redis.url,
      OPENAI_BASE_URL: mock.baseURL('openai'),
      OPENAI_API_KEY: 'sk-test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  instances[name] = { port, child, exited };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`instance ${name} did not start: ${output}`)), 10_000);
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code}): ${output}`)));
  });
}

async function stopInstance(name, signal = 'SIGTERM') {
  const { child, exited } = instances[name];
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exited;
}

const chat = (id, body, options = {}) =>
  readEvents(`${nginx.origin}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ id, messages: [{ role: 'user', content: body }] }),
    ...options,
  });
const resume = (id, lastEventId) =>
  readEvents(`${nginx.origin}/api/chat/${id}/stream`, {
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  });
const servedBy = (res) => res.headers['x-served-by'];
// Redis was killed before the answer was complete: the provider was still sending then.
const upstreamDoneAfter = () => requestFor('t4').completed && requestFor('t4').closedAt > redisKilledAt;
let redisKilledAt = 0;
const requestFor = (id) => mock.requests.find((r) => r.body.messages && r.body.messages[0].content.endsWith(`#${id}`));

beforeAll(async () => {
  redis = await startRedis();
  mock = await startMockProvider({
    provider: 'openai',
    script: (req) => SCRIPTS[req.body.messages[0].content.split('#')[0]],
  });
  const [portA, portB] = [await freePort(), await freePort()];
  await Promise.all([startInstance('A', portA), startInstance('B', portB)]);
  const lines = SITE.match(/server 127\.0\.0\.1:\d+;/g);
  if (!lines || lines.length !== 2)
    throw new Error('examples/resume/nginx.conf must keep its two "server 127.0.0.1:PORT;" lines');
  // startNginx points the first server line at appPort; the second is pointed at B here.
  const site = SITE.replace(lines[1], `server 127.0.0.1:${portB};`);
  nginx = await startNginx({ siteConfig: site, appPort: portA });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(Object.keys(instances).map((name) => stopInstance(name)));
  if (nginx) await nginx.stop();
  if (mock) await mock.close();
  if (redis) await redis.stop();
});

test('the client starts on one instance, drops, and its reconnect lands on the other, which sends the rest from Redis while the first still generates', async () => {
  const first = await chat('t1', 'slow#t1', { leaveAfterIds: 3 });
  expect(first.status).toBe(200);
  expect(first.headers['llm-relay-stream-id']).toBe('t1');
  const upstream = requestFor('t1');
  expect(upstream.closedAt).toBeUndefined(); // still generating
  const rest = await resume('t1', first.lastId);
  expect(servedBy(rest)).not.toBe(servedBy(first));
  expect(rest.status).toBe(200);
  // The rest began while the producer was still at work: the reader followed it live.
  expect(upstream.completed).toBe(true);
  expect(upstream.endedByClient).toBe(false);
  expect(textOf(first.text + rest.text)).toBe(LONG);
  const ids = idsOf(first.text + rest.text);
  expect(ids).toEqual(ids.map((_, i) => i + 1));
  // The whole stream, replayed (on whichever instance), is byte for byte what the two parts were.
  const whole = await resume('t1', undefined);
  expect(whole.text).toBe(first.text + rest.text);
});

test("stop sent to the other instance stops the producing instance's upstream within 200 ms", async () => {
  const first = await chat('t2', 'slow#t2', { leaveAfterIds: 2 });
  const upstream = requestFor('t2');
  expect(upstream.closedAt).toBeUndefined();
  const sentAt = Date.now();
  const stop = await readEvents(`${nginx.origin}/api/chat/t2/stop`, { method: 'POST', body: '{}' });
  expect(servedBy(stop)).not.toBe(servedBy(first));
  expect(JSON.parse(stop.text)).toEqual({ stopped: true });
  await within(upstream.closed, 2000, 'the upstream request closing');
  expect(upstream.closedAt - sentAt).toBeLessThan(200);
  expect(upstream.completed).toBe(false);
  const rest = await resume('t2', first.lastId);
  expect(parseSse(rest.text).events.at(-1)).toEqual({
    event: 'error',
    data: expect.stringContaining('"code":"ABORTED"'),
  });
});

test("kill -9 of the producing instance gives the other instance's reader PRODUCER_LOST after everything it logged", async () => {
  let producer;
  const onHead = new Promise((resolve) => {
    producer = resolve;
  });
  const live = chat('t3', 'slow#t3', { onHead: (headers) => producer(headers['x-served-by']) });
  const victim = await within(onHead, 5000, 'the response head');
  await new Promise((r) => setTimeout(r, 300)); // a few tokens in
  await stopInstance(victim, 'SIGKILL');
  const seen = await live;
  expect(seen.left).toBe(true); // cut off, without [DONE]
  const startedAt = Date.now();
  const reader = await resume('t3', undefined);
  expect(Date.now() - startedAt).toBeLessThan(8000);
  const events = parseSse(reader.text).events;
  expect(events.at(-1)).toEqual({ event: 'error', data: expect.stringContaining('"code":"PRODUCER_LOST"') });
  // Everything logged reached the reader: what the killed instance had sent, less at most the
  // batches it wrote to the client but had not handed to Redis yet.
  const logged = reader.text.slice(0, reader.text.lastIndexOf('event: error'));
  expect(seen.text.startsWith(logged)).toBe(true);
  expect(idsOf(logged).length).toBeGreaterThanOrEqual(idsOf(seen.text).length - 2);
  expect(idsOf(logged).length).toBeGreaterThan(3);
  await startInstance(victim, instances[victim].port);
}, 20_000);

test('redis-server killed mid-stream: the live client still gets the whole answer, and a later resume answers 503', async () => {
  const live = chat('t4', 'slow#t4');
  for (let i = 0; i < 200 && !requestFor('t4'); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200));
  expect(requestFor('t4').closedAt).toBeUndefined();
  redisKilledAt = Date.now();
  await redis.kill();
  const res = await live;
  expect(upstreamDoneAfter(res)).toBe(true);
  expect(textOf(res.text)).toBe(LONG);
  expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
  const later = await resume('t4', res.lastId);
  expect(later.status).toBe(503);
  expect(JSON.parse(later.text).error.code).toBe('STORE_UNAVAILABLE');
  // Redis comes back; the stores reconnect and new streams resume again.
  await redis.start();
  let ok;
  for (let i = 0; i < 100; i++) {
    ok = await chat('t5', 'fast#t5');
    if (ok.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(ok.status).toBe(200);
  expect((await resume('t5', undefined)).text).toBe(ok.text);
}, 30_000);

test('a stream expires ttlSeconds after its end: then its id answers 404', async () => {
  const store = createRedisStore({ url: redis.url, ttlSeconds: 1, keyPrefix: 'ttl-test:' });
  const app = await startServer((req, res) => {
    if (req.method === 'POST') {
      stream({
        provider: 'openai',
        baseURL: mock.baseURL('openai'),
        apiKey: 'k',
        body: { model: 'm', messages: [{ role: 'user', content: 'fast#ttl' }] },
      })
        .pipe(res, { resume: { store, id: 'ttl' } })
        .catch(() => {});
    } else {
      store
        .resume('ttl')
        .pipe(res)
        .catch(() => {});
    }
  });
  try {
    const live = await readEvents(app.url, { method: 'POST', body: '{}' });
    const again = await readEvents(app.url);
    expect(again.text).toBe(live.text);
    await new Promise((r) => setTimeout(r, 2200));
    const gone = await readEvents(app.url);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text).error.code).toBe('NOT_FOUND');
  } finally {
    await app.close();
    await store.close();
  }
});

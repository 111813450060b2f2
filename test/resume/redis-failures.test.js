'use strict';

// The Redis store when things go wrong: a producer process killed, Redis
// killed and restarted, a dropped connection, and stop() across instances.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { createRedisStore } = require('../../lib/resume');
const { RespConnection, parseRedisUrl } = require('../../lib/resume/redis-connection');
const { startRedis } = require('../helpers/redis');
const { batches, seqsOf, range, collect, until, sleep } = require('./helpers');

let redis;
const stores = [];
const open = (options = {}) => {
  const store = createRedisStore({ url: redis.url, ...options });
  stores.push(store);
  return store;
};

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(() => redis.stop());

/** A connection of the test's own, for looking at Redis directly. */
async function rawRedis() {
  const conn = new RespConnection({ ...parseRedisUrl(redis.url), connectTimeoutMs: 2000, commandTimeoutMs: 5000 });
  await conn.whenReady();
  return conn;
}

test('stop() on one instance reaches the onStop listener on the producing instance within 200 ms', async () => {
  const a = open();
  const b = open();
  await a.claim('stop-me', {});
  const delays = [];
  for (let i = 0; i < 5; i++) {
    const id = `stop-${i}`;
    await a.claim(id, {});
    const heard = new Promise((resolve) => a.onStop(id, () => resolve(performance.now())));
    const t0 = performance.now();
    expect(await b.stop(id)).toBe(true);
    delays.push((await heard) - t0);
    await a.end(id, { ok: false, error: { code: 'ABORTED', message: 'stopped' } });
  }
  expect(Math.max(...delays)).toBeLessThan(200);
  await a.end('stop-me', { ok: true });
});

test('a producer process killed with SIGKILL: the reader on another instance gets every logged delta, then PRODUCER_LOST within seconds', async () => {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'helpers', 'resume-producer.js'), redis.url, 'doomed', '25'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('logged') && resolve());
      child.once('exit', (code) => reject(new Error(`producer exited (${code}) before logging`)));
    });
    const b = open();
    const reader = b.read('doomed');
    const got = [];
    while (seqsOf(got).length < 50) got.push((await reader.next()).value);
    expect(got[0]).toEqual({ type: 'meta', meta: { producer: child.pid } });
    child.kill('SIGKILL');
    const t0 = Date.now();
    await expect(reader.next()).rejects.toMatchObject({ code: 'PRODUCER_LOST', name: 'RelayError' });
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(seqsOf(got)).toEqual(range(1, 50));

    // What was logged stays readable (until the TTL): a late reader gets it all, then the same error.
    const late = await collect(b.read('doomed', { after: 10 }));
    expect(seqsOf(late.entries)).toEqual(range(11, 50));
    expect(late.error).toMatchObject({ code: 'PRODUCER_LOST' });
    const raw = await rawRedis();
    const run = await raw.send(['HGET', 'llm-relay:{doomed}:meta', 'run']);
    expect(await raw.send(['TTL', `llm-relay:{doomed}:log:${run}`])).toBeGreaterThan(3000);
    expect(await raw.send(['EXISTS', 'llm-relay:{doomed}:owner'])).toBe(0);
    await raw.close();
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}, 20000);

test('Redis killed mid-stream: appends do not throw, reads and claims fail with STORE_UNAVAILABLE, and the store reconnects when Redis is back', async () => {
  const a = open();
  const b = open();
  await a.claim('live', {});
  const all = batches(1, 40, 2);
  all.slice(0, 5).forEach((x) => a.append('live', x));
  const reader = b.read('live');
  const got = [];
  while (seqsOf(got).length < 10) got.push((await reader.next()).value);
  const waiting = reader.next();
  await redis.kill();
  await expect(waiting).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
  await until(() => !a.stats().available, 3000, 'the producer to notice');
  for (const x of all.slice(5)) expect(() => a.append('live', x)).not.toThrow();
  expect(a.stats()).toMatchObject({ available: false, droppedAppends: 15 });
  await expect(collect(b.read('live'))).resolves.toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
  await expect(a.claim('other', {})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  await expect(b.stop('live')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  await expect(a.end('live', { ok: true })).resolves.toBeUndefined();

  await redis.start(); // same port, empty (no persistence)
  await until(() => a.stats().available && b.stats().available, 8000, 'reconnect');
  await a.claim('after', { back: true });
  a.append('after', batches(1, 2, 2)[0]);
  await a.end('after', { ok: true });
  const { entries, error } = await collect(b.read('after'));
  expect(error).toBeUndefined();
  expect(seqsOf(entries)).toEqual([1, 2]);
  expect((await collect(b.read('live'))).error).toMatchObject({ code: 'NOT_FOUND' });
}, 30000);

test('a connection dropped mid-stream ends the log with a STORE_UNAVAILABLE end record instead of leaving a gap', async () => {
  const a = open();
  const b = open();
  await a.claim('blip', {});
  batches(1, 20, 2).forEach((x) => a.append('blip', x));
  await a.stop('flush-marker'); // a round trip behind the appends
  const raw = await rawRedis();
  await raw.send(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
  batches(21, 24, 2).forEach((x) => a.append('blip', x)); // onto a dead connection
  await until(() => a.stats().available && b.stats().available && a.stats().droppedAppends === 2, 8000, 'reconnect');
  a.append('blip', batches(25, 26, 2)[0]);
  expect(a.stats().droppedAppends).toBe(3);
  await a.end('blip', { ok: true, summary: { text: 'whole answer' } });
  const { entries, error } = await until(
    async () => {
      const r = await collect(b.read('blip'));
      return r.entries.length > 0 && r.entries[r.entries.length - 1].type === 'end' && r;
    },
    5000,
    'the end record',
  );
  expect(error).toBeUndefined();
  expect(seqsOf(entries)).toEqual(range(1, 20));
  expect(entries[entries.length - 1]).toEqual({
    type: 'end',
    ok: false,
    error: { code: 'STORE_UNAVAILABLE', message: expect.stringContaining('gap') },
  });
  await raw.close();
}, 20000);

test('a reader of a live stream ends with PRODUCER_LOST when the producer’s store is closed without an end', async () => {
  const a = open();
  const b = open();
  await a.claim('abandoned', {});
  a.append('abandoned', batches(1, 2, 2)[0]);
  const result = collect(b.read('abandoned'));
  await sleep(100);
  await a.close();
  const { entries, error } = await result;
  expect(seqsOf(entries)).toEqual([1, 2]);
  expect(error).toMatchObject({ code: 'PRODUCER_LOST' });
}, 15000);

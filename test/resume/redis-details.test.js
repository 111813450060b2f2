'use strict';

// The Redis store's key layout (one cluster slot per stream), TTLs, the
// bounded log, AUTH/SELECT and TLS from the URL, many followers on one
// blocking connection, and option checks.

const { createRedisStore } = require('../../lib/resume');
const { RespConnection, parseRedisUrl } = require('../../lib/resume/redis-connection');
const { startRedis } = require('../helpers/redis');
const { getTestCertificates } = require('../helpers/tls');
const { batches, seqsOf, range, collect, sleep } = require('./helpers');

/** CRC16-XMODEM of the hash tag, as Redis Cluster assigns slots. */
function crc16(buf) {
  let crc = 0;
  for (const byte of buf) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
function keySlot(key) {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key)) % 16384;
}

let redis;
let raw;
const stores = [];
const open = (options = {}) => {
  const store = createRedisStore({ url: redis.url, ...options });
  stores.push(store);
  return store;
};

beforeAll(async () => {
  redis = await startRedis();
  raw = new RespConnection({ ...parseRedisUrl(redis.url), connectTimeoutMs: 2000, commandTimeoutMs: 5000 });
  await raw.whenReady();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await raw.close();
  await redis.stop();
});

test('the slot function agrees with the Redis Cluster spec vector', () => {
  expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
  expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
});

test('every key of one stream is named <prefix>{<id>}:… and sits in one cluster slot', async () => {
  const store = open({ keyPrefix: 'app:' });
  const ids = ['chat-1', 'user:42/chat 7', 'ü-ñ 🙂', 'x'.repeat(256)];
  for (const id of ids) {
    await store.claim(id, {});
    store.append(id, batches(1, 2, 2)[0]);
  }
  await store.stop('flush-marker');
  for (const id of ids) {
    const run = await raw.send(['HGET', `app:{${id}}:meta`, 'run']);
    const keys = (await raw.send(['KEYS', `app:{${id}}:*`])).sort();
    expect(keys).toEqual([`app:{${id}}:log:${run}`, `app:{${id}}:meta`, `app:{${id}}:owner`]);
    expect(new Set(keys.map(keySlot)).size).toBe(1);
    expect(keySlot(keys[0])).toBe(crc16(Buffer.from(id)) % 16384);
    await store.end(id, { ok: true });
  }
});

test('TTLs: the claim lives 3 s and is refreshed each second; meta and log expire ttlSeconds after the end', async () => {
  const store = open();
  await store.claim('ttl', {}, { ttlSeconds: 100 });
  store.append('ttl', batches(1, 2, 2)[0]);
  await store.stop('flush-marker');
  const run = await raw.send(['HGET', 'llm-relay:{ttl}:meta', 'run']);
  const log = `llm-relay:{ttl}:log:${run}`;
  expect(await raw.send(['PTTL', 'llm-relay:{ttl}:owner'])).toBeLessThanOrEqual(3000);
  expect(await raw.send(['TTL', log])).toBeGreaterThan(90);
  await sleep(1600);
  expect(await raw.send(['PTTL', 'llm-relay:{ttl}:owner'])).toBeGreaterThan(1500);
  await store.end('ttl', { ok: true });
  expect(await raw.send(['EXISTS', 'llm-relay:{ttl}:owner'])).toBe(0);
  for (const key of ['llm-relay:{ttl}:meta', log]) {
    const ttl = await raw.send(['TTL', key]);
    expect(ttl).toBeGreaterThan(95);
    expect(ttl).toBeLessThanOrEqual(100);
  }
});

test('the log is bounded by maxBatches: a reader that needs trimmed events gets LIMIT, a recent one reads on', async () => {
  const store = open({ maxBatches: 10 });
  await store.claim('long', {});
  batches(1, 1000, 1).forEach((b) => store.append('long', b));
  await store.end('long', { ok: true });
  const run = await raw.send(['HGET', 'llm-relay:{long}:meta', 'run']);
  expect(await raw.send(['XLEN', `llm-relay:{long}:log:${run}`])).toBeLessThan(300);
  const early = await collect(store.read('long'));
  expect(early.error).toMatchObject({
    code: 'LIMIT',
    status: 410,
    message: expect.stringContaining('no longer holds event 1'),
  });
  const recent = await collect(store.read('long', { after: 990 }));
  expect(recent.error).toBeUndefined();
  expect(seqsOf(recent.entries)).toEqual(range(991, 1000));
});

test('followers of many streams share one blocking read; a follower that joins while it waits is served at once', async () => {
  const a = open();
  const b = open();
  const ids = range(1, 30).map((i) => `many-${i}`);
  for (const id of [...ids, 'joiner']) await a.claim(id, {});
  const first = collect(b.read(ids[0]));
  await sleep(100); // the XREAD BLOCK is in flight now, for ids[0] only
  const t0 = Date.now();
  const joiner = b.read('joiner');
  await joiner.next();
  const next = joiner.next();
  await sleep(20);
  a.append('joiner', batches(1, 1, 1)[0]);
  expect(seqsOf([(await next).value])).toEqual([1]);
  expect(Date.now() - t0).toBeLessThan(700); // not after the 1 s block
  await joiner.return();
  await a.end('joiner', { ok: true });
  const readers = [first, ...ids.slice(1).map((id) => collect(b.read(id)))];
  for (let round = 0; round < 5; round++) {
    for (const id of ids) a.append(id, batches(round * 2 + 1, round * 2 + 2, 2)[0]);
    await sleep(5);
  }
  for (const id of ids) await a.end(id, { ok: true });
  const results = await Promise.all(readers);
  for (const r of results) {
    expect(r.error).toBeUndefined();
    expect(seqsOf(r.entries)).toEqual(range(1, 10));
  }
});

test('url mode: AUTH and SELECT come from the URL; a wrong password gives STORE_UNAVAILABLE naming the cause', async () => {
  const secured = await startRedis({ args: ['--requirepass', 's3cret'] });
  try {
    const store = createRedisStore({ url: `redis://default:s3cret@127.0.0.1:${secured.port}/3` });
    stores.push(store);
    await store.claim('authed', { db: 3 });
    await store.end('authed', { ok: true });
    const check = new RespConnection({
      ...parseRedisUrl(`redis://:s3cret@127.0.0.1:${secured.port}/3`),
      connectTimeoutMs: 2000,
      commandTimeoutMs: 5000,
    });
    await check.whenReady();
    expect(await check.send(['EXISTS', 'llm-relay:{authed}:meta'])).toBe(1);
    await check.close();
    const wrong = createRedisStore({ url: `redis://:nope@127.0.0.1:${secured.port}` });
    stores.push(wrong);
    await expect(wrong.claim('x', {})).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/WRONGPASS|invalid password/),
    });
  } finally {
    await secured.stop();
  }
});

test('url mode: rediss:// connects over TLS with the given CA', async () => {
  const certs = await getTestCertificates();
  const secure = await startRedis({ tls: certs });
  try {
    const store = createRedisStore({ url: secure.url, tls: { ca: certs.ca } });
    stores.push(store);
    await store.claim('tls', {});
    store.append('tls', batches(1, 3, 3)[0]);
    await store.end('tls', { ok: true });
    expect(seqsOf((await collect(store.read('tls'))).entries)).toEqual([1, 2, 3]);
  } finally {
    await secure.stop();
  }
});

test('createRedisStore() checks its options', () => {
  expect(() => createRedisStore()).toThrow(/Expected an object for createRedisStore\(\) options|neither/);
  expect(() => createRedisStore({})).toThrow(/received neither/);
  expect(() => createRedisStore({ url: 'http://x' })).toThrow(/redis:\/\/ or rediss:\/\/ URL for url/);
  expect(() => createRedisStore({ url: 'redis://:secret@h/x' })).toThrow(/database number/);
  expect(() => createRedisStore({ url: 'redis://h', client: {} })).toThrow(/received both/);
  expect(() => createRedisStore({ client: {} })).toThrow(/node-redis or ioredis client/);
  expect(() => createRedisStore({ url: redis.url, keyPrefix: 'a{b}' })).toThrow(/without braces/);
  expect(() => createRedisStore({ url: redis.url, maxbatches: 1 })).toThrow(
    /Unknown option createRedisStore\(\) options.maxbatches/,
  );
  expect(() => createRedisStore({ url: redis.url, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
});

'use strict';

const { createMemoryStore } = require('../../lib/resume');
const { storeContract, META } = require('./contract');
const { batches, seqsOf, range, collect, sleep } = require('./helpers');

storeContract('memory store', async () => {
  const store = createMemoryStore();
  return { producer: store, reader: store, close: () => store.close() };
});

describe('memory store bounds', () => {
  test('at maxBytes it evicts the oldest finished stream first; a reader of it that needs more gets LIMIT', async () => {
    const old = batches(1, 40, 4);
    const size = old.reduce((sum, b) => sum + b.data.length, 0);
    const store = createMemoryStore({ maxBytes: Math.floor(size * 2.5) }); // room for two streams
    for (const id of ['first', 'second']) {
      await store.claim(id, META);
      old.forEach((b) => store.append(id, b));
      await store.end(id, { ok: true });
    }
    const midway = store.read('first');
    await midway.next();
    await midway.next();
    await store.claim('third', META);
    old.forEach((b) => store.append('third', b));
    expect(store.stats()).toMatchObject({ evictedStreams: 1, trimmedBatches: 0 });
    expect((await collect(store.read('first'))).error).toMatchObject({ code: 'NOT_FOUND' });
    await expect(midway.next()).rejects.toMatchObject({ code: 'LIMIT', status: 410 });
    expect(seqsOf((await collect(store.read('second'))).entries)).toEqual(range(1, 40));
    await store.close();
  });

  test('when only live streams are left it trims their oldest batches, keeps the newest, and says so to readers that needed them', async () => {
    const store = createMemoryStore({ maxBytes: 5_000 });
    await store.claim('live', META);
    const all = batches(1, 100, 5);
    const follower = store.read('live');
    await follower.next();
    const followed = [];
    const following = (async () => {
      for (;;) {
        const { value } = await follower.next();
        followed.push(value);
        if (value.type === 'end') return;
      }
    })();
    for (const b of all) {
      store.append('live', b);
      await sleep(0);
    }
    expect(store.stats().trimmedBatches).toBeGreaterThan(0);
    expect(store.stats().bytes).toBeLessThanOrEqual(5_000);
    const late = await collect(store.read('live'));
    expect(late.error).toMatchObject({ code: 'LIMIT', message: expect.stringContaining('no longer holds event 1') });
    const tail = await store.read('live', { after: 99 });
    await tail.next();
    expect(seqsOf([(await tail.next()).value])).toEqual([100]);
    await store.end('live', { ok: true });
    await following;
    expect(seqsOf(followed)).toEqual(range(1, 100));
    await store.close();
  });

  test('close() ends waiting readers with STORE_UNAVAILABLE and refuses new work; appends are dropped and counted', async () => {
    const store = createMemoryStore();
    await store.claim('x', META);
    const waiting = collect(store.read('x'));
    await sleep(10);
    await store.close();
    expect((await waiting).error).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
    await expect(store.claim('y')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((await collect(store.read('x'))).error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    store.append('x', batches(1, 1, 1)[0]);
    expect(store.stats().droppedAppends).toBe(1);
  });

  test('options are checked: unknown keys and bad numbers are refused', () => {
    expect(() => createMemoryStore({ maxbytes: 1 })).toThrow(/Unknown option createMemoryStore\(\) options.maxbytes/);
    expect(() => createMemoryStore({ maxBytes: 0 })).toThrow(/positive integer for maxBytes/);
    expect(() => createMemoryStore({ ttlSeconds: 1.5 })).toThrow(/integer from 1 to 2147483 for ttlSeconds/);
  });
});

test('a reader that resumes inside a batch appended as bytes gets it cut at a delta boundary, as text', async () => {
  // The relays append Buffers (views of one Buffer per wakeup); a resume after event 5 cuts the batch 4..7.
  const store = createMemoryStore();
  await store.claim('bytes', META);
  for (const b of batches(1, 12, 4)) store.append('bytes', { ...b, data: Buffer.from(b.data) });
  await store.end('bytes', { ok: true });
  const { entries, error } = await collect(store.read('bytes', { after: 5 }));
  expect(error).toBeUndefined();
  expect(entries.filter((e) => e.type === 'batch').every((e) => typeof e.data === 'string')).toBe(true);
  expect(seqsOf(entries)).toEqual(range(6, 12));
  await store.close();
});

test('a batch appended as a view of a larger buffer is kept as a copy of its own bytes', async () => {
  // The relays hand every stream's batch of a worker wakeup in one Buffer: keeping a view would
  // keep the whole of it (other streams' deltas too) alive for the TTL.
  const store = createMemoryStore();
  await store.claim('view', META);
  const [b] = batches(1, 2, 2);
  const shared = Buffer.from(`${'x'.repeat(4096)}${b.data}${'y'.repeat(4096)}`);
  const view = shared.subarray(4096, 4096 + Buffer.byteLength(b.data));
  store.append('view', { ...b, data: view });
  shared.fill(0x7a); // the relay's buffer is not ours: what was logged must not change with it
  await store.end('view', { ok: true });
  const { entries } = await collect(store.read('view'));
  expect(entries.filter((e) => e.type === 'batch').map((e) => e.data)).toEqual([b.data]);
  expect(store.stats().bytes).toBeLessThan(1024);
  await store.close();
});

'use strict';

// The behaviour every resume store shares, run against each store by its
// own test file. `open()` gives a producer store and a reader store: the
// same object for the memory store, two instances (two "app instances") on
// one Redis for the Redis store.

const { batches, seqsOf, range, collect, until, sleep } = require('./helpers');

const META = { responseId: 'resp_1', created: 1700000000, model: 'gpt-test', startedAt: 1700000000123 };

function storeContract(name, open) {
  describe(`${name}: the store contract`, () => {
    let producer;
    let reader;
    let closeAll;
    let n = 0;
    const uid = () => `contract-${process.pid}-${Date.now()}-${n++}`;

    beforeAll(async () => {
      ({ producer, reader, close: closeAll } = await open());
    });
    afterAll(() => closeAll());

    async function finished(id, last = 20, per = 3, terminal = { ok: true, summary: { text: 'done' } }) {
      await producer.claim(id, META);
      for (const b of batches(1, last, per)) producer.append(id, b);
      await producer.end(id, terminal);
    }

    test('a finished stream reads back as its meta, every delta once and in order, then its end record', async () => {
      const id = uid();
      await finished(id);
      const { entries, error } = await collect(reader.read(id));
      expect(error).toBeUndefined();
      expect(entries[0]).toEqual({ type: 'meta', meta: META });
      expect(seqsOf(entries)).toEqual(range(1, 20));
      expect(entries[entries.length - 1]).toEqual({ type: 'end', ok: true, summary: { text: 'done' } });
    });

    test('reading after any event id gives exactly the later deltas, cutting the batch that straddles it', async () => {
      const id = uid();
      await finished(id, 13, 4);
      for (let after = 0; after <= 14; after++) {
        const { entries, error } = await collect(reader.read(id, { after }));
        expect(error).toBeUndefined();
        expect(seqsOf(entries)).toEqual(range(after + 1, 13));
        const firsts = entries.filter((e) => e.type === 'batch').map((e) => e.first);
        expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
        expect(entries[entries.length - 1].type).toBe('end');
      }
    });

    test('a reader that follows a live stream gets each batch as it is appended, then the end', async () => {
      const id = uid();
      await producer.claim(id, META);
      const all = batches(1, 30, 3);
      producer.append(id, all[0]);
      const it = reader.read(id);
      expect((await it.next()).value.type).toBe('meta');
      const got = [(await it.next()).value];
      for (const b of all.slice(1)) {
        const next = it.next();
        await sleep(2);
        producer.append(id, b);
        got.push((await next).value);
      }
      const end = it.next();
      await producer.end(id, { ok: true, summary: {} });
      expect((await end).value).toEqual({ type: 'end', ok: true, summary: {} });
      expect((await it.next()).done).toBe(true);
      expect(seqsOf(got)).toEqual(range(1, 30));
    });

    test('two concurrent readers, one from the start and one resuming, each get their deltas exactly once', async () => {
      const id = uid();
      await producer.claim(id, META);
      const all = batches(1, 60, 2);
      all.slice(0, 5).forEach((b) => producer.append(id, b));
      const a = collect(reader.read(id));
      const b = collect(reader.read(id, { after: 7 }));
      for (const batch of all.slice(5)) {
        producer.append(id, batch);
        if (batch.first % 10 === 1) await sleep(5);
      }
      await producer.end(id, { ok: true });
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.error).toBeUndefined();
      expect(rb.error).toBeUndefined();
      expect(seqsOf(ra.entries)).toEqual(range(1, 60));
      expect(seqsOf(rb.entries)).toEqual(range(8, 60));
    });

    test('an end record with an error reaches readers as it was written', async () => {
      const id = uid();
      const terminal = {
        ok: false,
        error: { code: 'ABORTED', message: 'stopped', status: 499, retryAfterMs: 5 },
        summary: { text: 'par' },
      };
      await finished(id, 4, 2, terminal);
      const { entries } = await collect(reader.read(id, { after: 4 }));
      expect(entries).toEqual([
        { type: 'meta', meta: META },
        { type: 'end', ...terminal },
      ]);
    });

    test('a stream with no deltas reads as its meta and its end', async () => {
      const id = uid();
      await producer.claim(id);
      await producer.end(id, { ok: true });
      const { entries } = await collect(reader.read(id));
      expect(entries).toEqual([
        { type: 'meta', meta: {} },
        { type: 'end', ok: true },
      ]);
    });

    test('an unknown id fails with NOT_FOUND and status 404', async () => {
      const { entries, error } = await collect(reader.read(uid()));
      expect(entries).toEqual([]);
      expect(error).toMatchObject({ name: 'RelayError', code: 'NOT_FOUND', status: 404 });
    });

    test('a second claim of a live id is refused (INVALID_ARGUMENT, 409); after its end a claim replaces it', async () => {
      const id = uid();
      await producer.claim(id, { n: 1 });
      await expect(reader.claim(id, { n: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', status: 409 });
      await expect(producer.claim(id, { n: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', status: 409 });
      producer.append(id, batches(1, 3, 3)[0]);
      await producer.end(id, { ok: true });
      await reader.claim(id, { n: 3 });
      reader.append(id, batches(1, 1, 1)[0]);
      await reader.end(id, { ok: true });
      const { entries } = await collect(producer.read(id));
      expect(entries[0]).toEqual({ type: 'meta', meta: { n: 3 } });
      expect(seqsOf(entries)).toEqual([1]);
    });

    test('stop() reaches the producer’s onStop listener once and says whether the stream was live', async () => {
      const id = uid();
      await producer.claim(id, META);
      const heard = [];
      producer.onStop(id, () => heard.push('a'));
      const remove = producer.onStop(id, () => heard.push('removed'));
      remove();
      expect(await reader.stop(id)).toBe(true);
      await until(() => heard.length > 0, 2000, 'onStop');
      expect(await reader.stop(id)).toBe(true);
      await sleep(50);
      expect(heard).toEqual(['a']);
      await producer.end(id, { ok: false, error: { code: 'ABORTED', message: 'stopped' } });
      expect(await reader.stop(id)).toBe(false);
      expect(await reader.stop(uid())).toBe(false);
      expect(() => producer.onStop(id, () => {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    });

    test('a stop that arrives before onStop is registered is still heard', async () => {
      const id = uid();
      await producer.claim(id, META);
      await producer.stop(id);
      await sleep(20);
      const heard = await new Promise((resolve) => producer.onStop(id, () => resolve(true)));
      expect(heard).toBe(true);
      await producer.end(id, { ok: true });
    });

    test('return() ends a reader that waits for the producer at once, and its pending next() resolves done', async () => {
      const id = uid();
      await producer.claim(id, META);
      const it = reader.read(id);
      await it.next();
      const pending = it.next();
      await sleep(20);
      const t0 = Date.now();
      await it.return();
      expect(await pending).toEqual({ value: undefined, done: true });
      expect(Date.now() - t0).toBeLessThan(500);
      await producer.end(id, { ok: true });
    });

    test('return() at any moment of a read ends it cleanly, also while the reader waits on a store round trip', async () => {
      const id = uid();
      await producer.claim(id, META);
      for (let delay = 0; delay < 16; delay++) {
        const it = reader.read(id);
        const first = it.next();
        const second = it.next();
        await sleep(delay);
        await it.return();
        const a = await first;
        expect(a.done || a.value.type === 'meta').toBe(true);
        expect(await second).toEqual({ value: undefined, done: true });
      }
      await producer.end(id, { ok: true });
    });

    test('aborting the signal passed to read() ends a waiting reader', async () => {
      const id = uid();
      await producer.claim(id, META);
      const ac = new AbortController();
      const result = collect(reader.read(id, { signal: ac.signal }));
      await sleep(30);
      ac.abort();
      const { entries, error } = await result;
      expect(error).toBeUndefined();
      expect(entries).toEqual([{ type: 'meta', meta: META }]);
      await producer.end(id, { ok: true });
    });

    test('bad ids, batches and end records are refused with INVALID_ARGUMENT naming what was wrong', async () => {
      for (const bad of ['', 'a\nb', 'x{y}', 'z'.repeat(257), 42, undefined]) {
        await expect(producer.claim(bad)).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('for id'),
        });
        expect(() => reader.read(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      }
      expect(() => reader.read('ok', { after: -1 })).toThrow(/non-negative integer .* for after/);
      expect(() => reader.read('ok', { afterr: 1 })).toThrow(/Unknown option read\(\) options.afterr/);
      const id = uid();
      expect(() => producer.append(id, batches(1, 1, 1)[0])).toThrow(/claimed, unfinished stream id for append/);
      await producer.claim(id);
      expect(() => producer.append(id, { first: 2, count: 1, data: '{},' })).toThrow(/Expected batch.first 1/);
      expect(() => producer.append(id, { first: 1, count: 0, data: '{},' })).toThrow(
        /positive integer for batch.count/,
      );
      expect(() => producer.append(id, { first: 1, count: 1, data: '{}' })).toThrow(/comma-terminated/);
      producer.append(id, { first: 1, count: 1, data: '{},' });
      expect(() => producer.append(id, { first: 1, count: 1, data: '{},' })).toThrow(/Expected batch.first 2/);
      await expect(producer.end(id, { ok: false })).rejects.toThrow(/error \{ code, message \}/);
      await expect(producer.end(id, 'done')).rejects.toThrow(/\{ ok: true, summary \}/);
      await producer.end(id, { ok: true });
    });

    test('a finished stream expires after its ttlSeconds', async () => {
      const id = uid();
      await producer.claim(id, META, { ttlSeconds: 1 });
      producer.append(id, batches(1, 2, 2)[0]);
      await producer.end(id, { ok: true });
      expect((await collect(reader.read(id))).error).toBeUndefined();
      await until(async () => (await collect(reader.read(id))).error, 4000, 'expiry');
      expect((await collect(reader.read(id))).error).toMatchObject({ code: 'NOT_FOUND' });
    });
  });
}

module.exports = { storeContract, META };

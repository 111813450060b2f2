'use strict';

// read() on the Redis store. The log is a Redis stream whose entry ids are
// the batches' first seq (`<first>-0`), so a resume at event N starts with
// one XREVRANGE for the batch holding N + 1, pages on with XRANGE, and then
// waits in the shared XREAD BLOCK (redis-follow.js). The end record is the
// stream's last entry, `<last seq + 1>-0`, so it arrives in order.

const { EntryIterator } = require('./iterator');
const { cutBatch } = require('./batch');
const { notFound, producerLost, unavailable, logTrimmed } = require('./errors');

const PAGE = '100';
const OWNER_CHECK_MS = 1000;

/** An entry's fields: c/d (a batch) or e (the end record). */
function parseEntry(fields) {
  let count;
  let data;
  for (let i = 0; i < fields.length; i += 2) {
    const f = fields[i];
    if (f === 'e') return { end: fields[i + 1] };
    if (f === 'c') count = Number(fields[i + 1]);
    else if (f === 'd') data = fields[i + 1];
  }
  return { count, data };
}

function asStoreError(err) {
  return err && err.code ? err : unavailable(err && err.message ? err.message : String(err), err);
}

/**
 * @param {{ adapter: object, follow: import('./redis-follow').RedisFollow, keys: (id: string, run?: string) => object } | null} ctx
 *   null: the store is closed (the first next() says so)
 * @param {string} id
 * @param {number} after
 * @param {AbortSignal} [signal]
 * @param {() => void} [release] runs once when the reader ends
 */
function readRedis(ctx, id, after, signal, release) {
  const { adapter, follow } = ctx || {};
  let keys = null;
  let run = null;
  let cursor = '0-0'; // last log entry consumed
  let expected = after + 1; // next seq the reader needs
  let buffer = [];
  let at = 0;
  let ended = false;
  let lastOwnerCheck = 0;

  async function start() {
    if (ctx === null) throw unavailable('the store was closed');
    await adapter.whenReady();
    const base = ctx.keys(id);
    const [metaRun, metaText] = await adapter.send(['HMGET', base.meta, 'run', 'meta']);
    if (!metaRun) throw notFound(id);
    run = metaRun;
    keys = ctx.keys(id, run);
    if (after > 0) buffer = await adapter.send(['XREVRANGE', keys.log, `${after + 1}-0`, '-', 'COUNT', '1']);
    return { type: 'meta', meta: JSON.parse(metaText) };
  }

  /** The next entry from the buffer, or null when it is used up. */
  function fromBuffer() {
    while (at < buffer.length) {
      const [entryId, fields] = buffer[at++];
      cursor = entryId;
      const entry = parseEntry(fields);
      if (entry.end !== undefined) {
        ended = true;
        return { type: 'end', ...JSON.parse(entry.end) };
      }
      const first = Number(entryId.slice(0, entryId.indexOf('-')));
      if (first + entry.count - 1 < expected) continue; // seen already
      if (first > expected) throw logTrimmed(id, expected, first);
      const cut = cutBatch({ first, count: entry.count, data: entry.data }, expected - 1);
      expected = cut.first + cut.count;
      return { type: 'batch', first: cut.first, count: cut.count, data: cut.data };
    }
    return null;
  }

  async function page() {
    buffer = await adapter.send(['XRANGE', keys.log, `(${cursor}`, '+', 'COUNT', PAGE]);
    at = 0;
    return buffer.length > 0;
  }

  async function pull(token) {
    try {
      if (keys === null) return await start();
      for (;;) {
        if (ended) return undefined;
        const entry = fromBuffer();
        if (entry !== null) return entry;
        if (await page()) continue;
        if (token.cancelled) return undefined;
        if (Date.now() - lastOwnerCheck >= OWNER_CHECK_MS) {
          lastOwnerCheck = Date.now();
          const owner = await adapter.send(['GET', keys.owner]);
          // Not ours: ended (its end record is logged before the claim goes) or lost.
          if (owner !== run) {
            if (await page()) continue;
            throw producerLost(id);
          }
        }
        const got = await follow.wait(keys.log, keys.owner, run, cursor, token);
        if (got === undefined) return undefined;
        if (got === 'check') lastOwnerCheck = 0;
        else {
          buffer = got;
          at = 0;
        }
      }
    } catch (err) {
      throw asStoreError(err);
    }
  }

  return new EntryIterator(pull, release, signal);
}

module.exports = { readRedis };

'use strict';

// The in-process resume store: a Map of streams, each an array of batches.
// Bounded by maxBytes (finished streams go first, oldest end first; then the
// oldest batches of live streams, oldest claim first, and readers that needed
// them get LIMIT), finished streams expire ttlSeconds after their end, and
// waiting readers are woken by the append itself (no polling).

const { invalidArgument } = require('../errors');
const { EntryIterator } = require('./iterator');
const { cutBatch, dataText } = require('./batch');
const v = require('./validate');
const { notFound, unavailable, claimConflict, logTrimmed } = require('./errors');
const { fireStop, onStop } = require('./stop');

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_TTL_SECONDS = 3600;

class MemoryStream {
  constructor(id, metaText, ttlSeconds) {
    this.id = id;
    this.metaText = metaText;
    this.ttlSeconds = ttlSeconds;
    this.batches = [];
    this.head = 0; // batches before it were trimmed
    this.next = 1; // seq of the next delta
    this.bytes = metaText.length;
    this.terminal = null;
    this.live = true;
    this.evicted = false;
    this.waiters = new Set();
    this.stopListeners = new Set();
    this.stopped = false;
    this.timer = null;
  }

  /** The first kept batch holding a seq > after, or undefined. */
  batchAfter(after) {
    const { batches } = this;
    let lo = this.head;
    let hi = batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = batches[mid];
      if (b.first + b.count - 1 > after) hi = mid;
      else lo = mid + 1;
    }
    return batches[lo];
  }

  wake() {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }
}

class MemoryStore {
  #streams = new Map(); // id -> current MemoryStream
  #live = new Map(); // claim order: trimmed in this order
  #finished = new Map(); // end order: evicted in this order
  #bytes = 0;
  #maxBytes;
  #ttlSeconds;
  #closed = false;
  #readers = new Map(); // id -> open read() iterators (for hasReaders)
  #counts = { droppedAppends: 0, evictedStreams: 0, trimmedBatches: 0 };

  constructor(options) {
    const opts = v.checkOptions(options, ['maxBytes', 'ttlSeconds'], 'createMemoryStore() options');
    this.#maxBytes =
      opts.maxBytes === undefined ? DEFAULT_MAX_BYTES : v.checkPositiveInteger(opts.maxBytes, 'maxBytes');
    this.#ttlSeconds = opts.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : v.checkTtl(opts.ttlSeconds, 'ttlSeconds');
  }

  async claim(id, meta, options) {
    v.checkId(id);
    const metaText = v.serializeMeta(meta);
    const opts = v.checkOptions(options, ['ttlSeconds'], 'claim() options');
    const ttl = opts.ttlSeconds === undefined ? this.#ttlSeconds : v.checkTtl(opts.ttlSeconds, 'ttlSeconds');
    if (this.#closed) throw unavailable('the store was closed');
    const old = this.#streams.get(id);
    if (old !== undefined && old.live) throw claimConflict(id);
    // Readers of the old stream hold it and finish it; new readers get this one.
    if (old !== undefined) this.#remove(old, false);
    const s = new MemoryStream(id, metaText, ttl);
    this.#streams.set(id, s);
    this.#live.set(id, s);
    this.#bytes += s.bytes;
  }

  append(id, batch) {
    if (this.#closed) {
      this.#counts.droppedAppends++;
      return;
    }
    const s = this.#live.get(id);
    if (s === undefined)
      throw invalidArgument(`Expected a claimed, unfinished stream id for append() but received ${JSON.stringify(id)}`);
    v.checkBatch(batch, s.next, id);
    const { first, count } = batch;
    let { data } = batch;
    // A view of a larger buffer (the relays hand every stream's batch of a wakeup in one Buffer)
    // would keep all of it alive: keep a copy of our part only.
    if (typeof data !== 'string' && data.byteLength !== data.buffer.byteLength) data = Buffer.from(data);
    s.next = first + count;
    s.batches.push({ first, count, data });
    s.bytes += data.length;
    this.#bytes += data.length;
    if (s.waiters.size > 0) s.wake();
    if (this.#bytes > this.#maxBytes) this.#evict();
  }

  async end(id, terminal) {
    const text = v.serializeTerminal(terminal);
    if (this.#closed) return;
    const s = this.#live.get(id);
    if (s === undefined)
      throw invalidArgument(`Expected a claimed, unfinished stream id for end() but received ${JSON.stringify(id)}`);
    s.terminal = text;
    s.live = false;
    s.stopListeners.clear();
    s.bytes += text.length;
    this.#bytes += text.length;
    this.#live.delete(id);
    this.#finished.set(id, s);
    s.timer = setTimeout(() => this.#remove(s, false), s.ttlSeconds * 1000);
    s.timer.unref();
    s.wake();
    if (this.#bytes > this.#maxBytes) this.#evict();
  }

  read(id, options) {
    v.checkId(id);
    const opts = v.checkOptions(options, ['after', 'signal'], 'read() options');
    let cursor = v.checkAfter(opts.after); // last seq delivered
    let s;
    let ended = false;
    const pull = async (token) => {
      if (s === undefined) {
        if (this.#closed) throw unavailable('the store was closed');
        s = this.#streams.get(id);
        if (s === undefined) throw notFound(id);
        return { type: 'meta', meta: JSON.parse(s.metaText) };
      }
      for (;;) {
        const b = s.batchAfter(cursor);
        if (cursor + 1 < s.next && (b === undefined || b.first > cursor + 1)) {
          throw logTrimmed(id, cursor + 1, s.evicted || b === undefined ? undefined : b.first);
        }
        if (b !== undefined) {
          // Text first: a batch appended as bytes (the relays append Buffers) is cut as text.
          const cut = cutBatch({ first: b.first, count: b.count, data: dataText(b.data) }, cursor);
          cursor = cut.first + cut.count - 1;
          return { type: 'batch', first: cut.first, count: cut.count, data: cut.data };
        }
        if (s.terminal !== null) {
          if (ended) return undefined;
          ended = true;
          return { type: 'end', ...JSON.parse(s.terminal) };
        }
        if (this.#closed) throw unavailable('the store was closed');
        let resolve;
        const woken = new Promise((r) => {
          resolve = r;
        });
        s.waiters.add(resolve);
        const unregister = token.add(resolve);
        await woken;
        s.waiters.delete(resolve);
        unregister();
        if (token.cancelled) return undefined;
      }
    };
    this.#readers.set(id, (this.#readers.get(id) || 0) + 1);
    const release = () => {
      const n = this.#readers.get(id) - 1;
      if (n > 0) this.#readers.set(id, n);
      else this.#readers.delete(id);
    };
    return new EntryIterator(pull, release, opts.signal);
  }

  /**
   * Whether a read() of `id` is open (a resumed reader is following or
   * replaying it): what `resume.abandonAfterMs` counts as a reader.
   * @returns {Promise<boolean>}
   */
  async hasReaders(id) {
    v.checkId(id);
    return this.#readers.has(id);
  }

  /**
   * The reader of stream `id` for a client that comes back: the events after
   * `lastEventId` (all without it), then the live rest, then the end, as
   * `for await` Deltas or with `.pipe(res)` / `.toResponse()` in any format.
   * @param {string} id
   * @param {{ lastEventId?: string | number | null, signal?: AbortSignal }} [options]
   */
  resume(id, options) {
    return require('../server/resumed').resume(this, id, options);
  }

  async stop(id) {
    v.checkId(id);
    if (this.#closed) throw unavailable('the store was closed');
    const s = this.#live.get(id);
    if (s === undefined) return false;
    fireStop(s);
    return true;
  }

  onStop(id, listener) {
    return onStop(this.#live, id, listener);
  }

  /** Counters for monitoring. */
  stats() {
    return {
      streams: this.#streams.size,
      liveStreams: this.#live.size,
      bytes: this.#bytes,
      maxBytes: this.#maxBytes,
      ...this.#counts,
    };
  }

  async close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) {
      clearTimeout(s.timer);
      s.stopListeners.clear();
      s.wake(); // waiting readers see #closed: STORE_UNAVAILABLE
    }
    this.#streams.clear();
    this.#live.clear();
    this.#finished.clear();
    this.#bytes = 0;
  }

  /** Expiry, replacement (evict false: readers holding it finish it) or eviction (memory freed now). */
  #remove(s, evict) {
    if (this.#streams.get(s.id) === s) this.#streams.delete(s.id);
    this.#finished.delete(s.id);
    clearTimeout(s.timer);
    this.#bytes -= s.bytes;
    s.bytes = 0;
    if (evict) {
      s.batches = [];
      s.head = 0;
      s.evicted = true;
      this.#counts.evictedStreams++;
    }
  }

  #evict() {
    for (const s of this.#finished.values()) {
      if (this.#bytes <= this.#maxBytes) return;
      this.#remove(s, true);
    }
    for (const s of this.#live.values()) {
      // The newest batch stays: a follower waiting at the tail never loses it.
      while (this.#bytes > this.#maxBytes && s.batches.length - s.head > 1) {
        const size = s.batches[s.head].data.length;
        s.batches[s.head++] = undefined;
        s.bytes -= size;
        this.#bytes -= size;
        this.#counts.trimmedBatches++;
      }
      if (s.head > 1024 && s.head * 2 > s.batches.length) {
        s.batches = s.batches.slice(s.head);
        s.head = 0;
      }
      if (this.#bytes <= this.#maxBytes) return;
    }
  }
}

/**
 * A resume store in this process's memory: the default, no setup. Streams do
 * not survive a restart and are not shared between instances (use
 * createRedisStore() for that).
 * @param {{ maxBytes?: number, ttlSeconds?: number }} [options]
 *   maxBytes: bound on the logged data (default 64 MiB, counted in string
 *   characters). ttlSeconds: how long a finished stream stays (default 3600).
 * @returns {MemoryStore}
 */
function createMemoryStore(options) {
  return new MemoryStore(options);
}

module.exports = { createMemoryStore, MemoryStore };

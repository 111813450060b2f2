'use strict';

// The Redis resume store (key names: redis-keys.js; options:
// redis-options.js; reads: redis-reader.js and redis-follow.js).
// The producer side never waits on Redis per append: appends are queued on
// the command connection and leave in one write per main-loop turn.

const { invalidArgument } = require('../errors');
const v = require('./validate');
const { createAdapter } = require('./redis-adapters');
const { RedisFollow } = require('./redis-follow');
const { readRedis } = require('./redis-reader');
const { HEARTBEAT, RELEASE, CLAIM, END, runScript, sendScript } = require('./redis-scripts');
const { unavailable, claimConflict } = require('./errors');
const { fireStop, onStop } = require('./stop');
const { Producing, endRecordText } = require('./redis-producing');
const { nextRun, keyNames } = require('./redis-keys');
const { redisStoreOptions } = require('./redis-options');

const OWNER_TTL_MS = 3000;
const HEARTBEAT_MS = 1000;
const READERS_TTL_MS = 2500;

function noop() {}

class RedisStore {
  #adapter;
  #connection; // url mode: the command connection appends write into
  #prefix;
  #ttlSeconds;
  #maxBatches;
  #live = new Map();
  #pendingEnds = new Set(); // ended while Redis was unreachable
  #follow;
  #sub = null;
  #subscribed = false; // #sub resolved: claims need not wait for it
  #heartbeat;
  #closed = false;
  #down = false;
  #counts = { droppedAppends: 0 };
  #reading = new Map(); // id -> open read() iterators on this instance
  #onAppended;

  constructor(options) {
    const opts = redisStoreOptions(options);
    this.#prefix = opts.keyPrefix;
    this.#ttlSeconds = opts.ttlSeconds;
    this.#maxBatches = opts.maxBatches;
    this.#adapter = createAdapter({
      url: opts.url,
      client: opts.client,
      tls: opts.tls,
      connectTimeoutMs: opts.connectTimeoutMs,
      commandTimeoutMs: opts.commandTimeoutMs,
    });
    this.#adapter.onState((state) => this.#onState(state));
    this.#connection = this.#adapter.connection || null;
    if (this.#adapter.isReady()) this.#loadScripts();
    this.#follow = new RedisFollow(this.#adapter);
    this.#onAppended = (err, reply, s) => {
      if (err) this.#lose(s, 1);
    };
    this.#onAppended.ignoresReply = true; // the parser need not decode each XADD's id
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** The key names of stream `id` (`log` only with the run). */
  keys(id, run) {
    return keyNames(this.#prefix, id, run);
  }

  async claim(id, meta, options) {
    v.checkId(id);
    const metaText = v.serializeMeta(meta);
    const opts = v.checkOptions(options, ['ttlSeconds'], 'claim() options');
    const ttl = opts.ttlSeconds === undefined ? this.#ttlSeconds : v.checkTtl(opts.ttlSeconds, 'ttlSeconds');
    if (this.#closed) throw unavailable('the store was closed');
    if (this.#live.has(id)) throw claimConflict(id);
    const adapter = this.#adapter;
    if (!adapter.isReady()) await adapter.whenReady();
    // Subscribed before the claim exists, so no stop for it can be missed.
    if (!this.#subscribed) await this.#subscribe();
    const run = nextRun();
    const keys = this.keys(id, run);
    const oldRun = await sendScript(
      adapter,
      CLAIM,
      [keys.owner, keys.meta],
      [run, String(OWNER_TTL_MS), metaText, String(ttl)],
    );
    if (oldRun === 0) throw claimConflict(id);
    // The replaced stream's readers hold its run and see the claim go: they end.
    if (oldRun) await adapter.send(['DEL', this.keys(id, oldRun).log]);
    this.#live.set(id, new Producing(id, run, keys, ttl, this.#maxBatches, adapter.kind === 'url'));
  }

  append(id, batch) {
    const s = this.#live.get(id);
    if (s === undefined) {
      if (this.#closed) return void this.#counts.droppedAppends++;
      throw invalidArgument(`Expected a claimed, unfinished stream id for append() but received ${JSON.stringify(id)}`);
    }
    v.checkBatch(batch, s.next, id);
    const { first, count, data } = batch;
    s.next = first + count;
    if (s.broken || s.orphaned) return void this.#counts.droppedAppends++;
    const conn = this.#connection;
    if (conn !== null) {
      if (!conn.ready) return this.#lose(s, 1);
      // XADD <log> MAXLEN ~ <n> <first>-0 c <count> d <data>, straight into the output buffer.
      const w = conn.writer;
      w.ensure(s.xaddHead.length + 96);
      w.bytes(s.xaddHead);
      w.bulkStreamId(first);
      w.char(99); // c
      w.bulkInt(count);
      w.char(100); // d
      w.bulk(data);
      conn.expectBatched(this.#onAppended, s);
    } else if (
      !this.#adapter.post(
        ['XADD', s.keys.log, 'MAXLEN', '~', String(this.#maxBatches), `${first}-0`, 'c', String(count), 'd', data],
        this.#onAppended,
        s,
      )
    ) {
      return this.#lose(s, 1);
    }
    if (!s.logExpires) {
      // XADD made the key; without a TTL it would outlive a producer that dies now.
      s.logExpires = true;
      this.#adapter.post(['EXPIRE', s.keys.log, String(s.ttl)], noop, null);
    }
  }

  async end(id, terminal) {
    const text = v.serializeTerminal(terminal);
    const s = this.#live.get(id);
    if (s === undefined) {
      if (this.#closed) return;
      throw invalidArgument(`Expected a claimed, unfinished stream id for end() but received ${JSON.stringify(id)}`);
    }
    this.#live.delete(id);
    s.ended = true;
    s.stopListeners.clear();
    s.terminalText = text;
    await this.#writeEnd(s);
  }

  read(id, options) {
    v.checkId(id);
    const opts = v.checkOptions(options, ['after', 'signal'], 'read() options');
    const after = v.checkAfter(opts.after);
    if (this.#closed) return readRedis(null, id, after, opts.signal);
    return readRedis(
      { adapter: this.#adapter, follow: this.#follow, keys: (i, r) => this.keys(i, r) },
      id,
      after,
      opts.signal,
      this.#reader(id),
    );
  }

  /**
   * Whether a read() of `id` is open on any instance: what
   * `resume.abandonAfterMs` counts as a reader. Readers keep the key
   * `<prefix>{<id>}:readers` alive (PX 2500, refreshed every second), so a
   * reader that went away elsewhere counts for up to 2.5 s more.
   * @returns {Promise<boolean>}
   */
  async hasReaders(id) {
    v.checkId(id);
    if (this.#reading.has(id)) return true;
    if (this.#closed) throw unavailable('the store was closed');
    return (await this.#adapter.send(['EXISTS', this.keys(id).readers])) === 1;
  }

  /**
   * The reader of stream `id` for a client that comes back (see
   * MemoryStore#resume): `for await`, `.pipe(res)`, `.toResponse()`.
   * @param {string} id
   * @param {{ lastEventId?: string | number | null, signal?: AbortSignal }} [options]
   */
  resume(id, options) {
    return require('../server/resumed').resume(this, id, options);
  }

  /** Counts an open reader of `id` (presence for hasReaders); returns its release. */
  #reader(id) {
    const n = this.#reading.get(id) || 0;
    this.#reading.set(id, n + 1);
    if (n === 0) this.#markReading(id);
    return () => {
      const left = this.#reading.get(id) - 1;
      if (left > 0) this.#reading.set(id, left);
      else this.#reading.delete(id);
    };
  }

  #markReading(id) {
    if (this.#closed || !this.#adapter.isReady()) return;
    this.#adapter.post(['SET', this.keys(id).readers, '1', 'PX', String(READERS_TTL_MS)], noop, null);
  }

  async stop(id) {
    v.checkId(id);
    if (this.#closed) throw unavailable('the store was closed');
    const local = this.#live.get(id);
    if (local !== undefined) {
      fireStop(local);
      return true;
    }
    await this.#adapter.whenReady();
    const [exists] = await Promise.all([
      this.#adapter.send(['EXISTS', this.keys(id).owner]),
      this.#adapter.send(['PUBLISH', `${this.#prefix}stop`, id]),
    ]);
    return exists === 1;
  }

  onStop(id, listener) {
    return onStop(this.#live, id, listener);
  }

  /** Counters for monitoring: `available` is false while Redis is out of reach. */
  stats() {
    return {
      available: this.#adapter.isReady(),
      liveStreams: this.#live.size,
      pendingEnds: this.#pendingEnds.size,
      ...this.#counts,
    };
  }

  async close() {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#live.clear();
    this.#pendingEnds.clear();
    await this.#follow.close();
    if (this.#sub !== null) await (await this.#sub.catch(() => ({ close() {} }))).close();
    await this.#adapter.close();
  }

  #subscribe() {
    if (this.#sub === null) {
      this.#sub = this.#adapter.subscribe(`${this.#prefix}stop`, (id) => {
        const s = this.#live.get(id);
        if (s !== undefined) fireStop(s);
      });
      this.#sub.then(
        () => {
          this.#subscribed = true;
        },
        () => {
          this.#sub = null; // the next claim tries again
        },
      );
    }
    return this.#sub;
  }

  /** An append that did not reach the log: the stream's log now has a gap. */
  #lose(s, n) {
    this.#counts.droppedAppends += n;
    if (s.broken) return;
    s.broken = true;
    // Readers must not wait on a log with a gap: end it as soon as Redis takes writes.
    if (!s.ended && this.#adapter.isReady()) this.#writeEnd(s);
  }

  async #writeEnd(s) {
    if (s.terminalWritten || s.orphaned || this.#closed) return;
    const adapter = this.#adapter;
    if (!adapter.isReady()) {
      this.#pendingEnds.add(s);
      return;
    }
    this.#pendingEnds.delete(s);
    const text = endRecordText(s);
    const { keys } = s;
    s.terminalWritten = true;
    try {
      if (s.broken) {
        // Only onto our own log: after a Redis restart the keys may be gone or someone else's.
        const metaRun = await adapter.send(['HGET', keys.meta, 'run']);
        if (metaRun !== s.run) return;
      }
      // One script: the end record, the claim released, the keys' TTL.
      await sendScript(
        adapter,
        END,
        [keys.owner, keys.meta, keys.log],
        [s.run, `${s.next}-0`, text, String(this.#maxBatches), String(s.ttl)],
      );
    } catch (err) {
      if (err && err.code === 'STORE_UNAVAILABLE') {
        s.terminalWritten = false;
        this.#pendingEnds.add(s);
      }
      // A reply error (e.g. a log replaced meanwhile) leaves nothing to retry.
    }
  }

  #onState(state) {
    if (state === 'down') {
      this.#down = true;
      return;
    }
    this.#loadScripts();
    if (!this.#down) return;
    this.#down = false;
    for (const s of this.#live.values()) if (s.broken) this.#writeEnd(s);
    for (const s of [...this.#pendingEnds]) this.#writeEnd(s);
    this.#beat();
  }

  /** Cached before the first heartbeat, so 1,000 streams do not each start with NOSCRIPT. */
  #loadScripts() {
    for (const { text } of [HEARTBEAT, RELEASE, CLAIM, END]) this.#adapter.post(['SCRIPT', 'LOAD', text], noop, null);
  }

  /** Refreshes every live claim (and, now and then, the keys' TTL). */
  #beat() {
    const adapter = this.#adapter;
    if (this.#closed || !adapter.isReady()) return;
    const now = Date.now();
    for (const id of this.#reading.keys()) this.#markReading(id);
    for (const s of this.#live.values()) {
      if (s.broken || s.orphaned) continue;
      const refresh = now - s.lastKeyRefresh >= Math.min(10_000, (s.ttl * 1000) / 3);
      if (refresh) s.lastKeyRefresh = now;
      runScript(
        adapter,
        HEARTBEAT,
        [s.keys.owner, s.keys.meta, s.keys.log],
        [s.run, String(OWNER_TTL_MS), refresh ? String(s.ttl) : '0'],
        (err, reply) => {
          if (!err && reply === 0) s.orphaned = true;
        },
        null,
      );
    }
  }
}

/**
 * A resume store on Redis Streams, shared by every instance of an app.
 * Needs Redis 6.2 or later.
 * @param {object} options
 * @param {string} [options.url] redis://[[user]:password@]host[:port][/db] or rediss:// (TLS);
 *   the store opens its own connections (commands, blocking reads, pub/sub)
 * @param {object} [options.client] an application's connected node-redis (v4+) or ioredis
 *   client; the store duplicates it for blocking reads and pub/sub and never closes it
 * @param {object} [options.tls] tls.connect() options for rediss:// (e.g. { ca })
 * @param {string} [options.keyPrefix] default 'llm-relay:'
 * @param {number} [options.ttlSeconds] how long a stream stays after its end (default 3600)
 * @param {number} [options.maxBatches] log entries kept per stream (XADD MAXLEN ~, default 100000)
 * @param {number} [options.connectTimeoutMs] default 5000 (url mode)
 * @param {number} [options.commandTimeoutMs] a connection whose replies stop for this long is
 *   dropped and reconnected (default 5000, url mode)
 * @returns {RedisStore}
 */
function createRedisStore(options) {
  return new RedisStore(options);
}

module.exports = { createRedisStore, RedisStore };

'use strict';

// Live followers of Redis logs share one blocking connection per store
// instance: a single `XREAD BLOCK` over every followed stream, rebuilt when a
// follower joins (CLIENT UNBLOCK interrupts the one in flight). Thousands of
// waiting readers cost one connection and no polling. Each second it also
// checks, per followed stream, that the producer still holds its claim, and
// wakes that stream's readers with 'check' when it does not.

const { unavailable } = require('./errors');

const BLOCK_MS = 1000;
const COUNT = 100;
const CHECK_MS = 1000;
const KICK_RETRY_MS = 5;

/** Compares Redis stream ids ("ms-seq"). */
function compareIds(a, b) {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = Number(a.slice(0, da));
  const mb = Number(b.slice(0, db));
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = Number(a.slice(da + 1));
  const sb = Number(b.slice(db + 1));
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

class RedisFollow {
  constructor(adapter) {
    this.adapter = adapter;
    this.groups = new Map(); // log key -> { ownerKey, run, waiters: Set }
    this.conn = null;
    this.running = false;
    this.closed = false;
    this.inflight = null; // Map key -> id of the XREAD in flight
    this.generation = 0;
    this.clientId = null;
    this.lastCheck = 0;
  }

  /**
   * Waits for entries after `cursor` in `logKey`.
   * @returns {Promise<Array | 'check' | undefined>} entries, 'check' (the
   *   producer no longer holds its claim), or undefined (cancelled)
   */
  wait(logKey, ownerKey, run, cursor, token) {
    if (this.closed) return Promise.reject(unavailable('the store was closed'));
    // The reader may have been cancelled while it awaited its last command.
    if (token.cancelled) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      let group = this.groups.get(logKey);
      if (group === undefined) {
        group = { ownerKey, run, waiters: new Set() };
        this.groups.set(logKey, group);
      }
      const waiter = { cursor, since: Date.now(), resolve, reject, unregister: () => {} };
      const settle = () => {
        group.waiters.delete(waiter);
        if (group.waiters.size === 0 && this.groups.get(logKey) === group) this.groups.delete(logKey);
        waiter.unregister();
      };
      waiter.resolve = (value) => {
        settle();
        resolve(value);
      };
      waiter.reject = (err) => {
        settle();
        reject(err);
      };
      group.waiters.add(waiter);
      waiter.unregister = token.add(() => waiter.resolve(undefined));
      if (!this.running) this.run();
      else if (this.inflight !== null) {
        const sent = this.inflight.get(logKey);
        if (sent === undefined || compareIds(cursor, sent) < 0) this.kick();
      }
    });
  }

  async run() {
    this.running = true;
    try {
      if (this.conn === null) this.conn = await this.adapter.blocking(BLOCK_MS);
      while (this.groups.size > 0 && !this.closed) {
        const keys = [];
        const ids = [];
        this.inflight = new Map();
        for (const [key, group] of this.groups) {
          let min = null;
          for (const w of group.waiters) if (min === null || compareIds(w.cursor, min) < 0) min = w.cursor;
          keys.push(key);
          ids.push(min);
          this.inflight.set(key, min);
        }
        const generation = ++this.generation;
        // A stale id could name another client after a Redis restart: learn it afresh each round.
        this.clientId = null;
        // Pipelined with the XREAD: the id CLIENT UNBLOCK needs, even after a reconnect.
        this.conn.send(['CLIENT', 'ID']).then(
          (id) => {
            if (generation === this.generation) this.clientId = id;
          },
          () => {},
        );
        const reply = await this.conn.send([
          'XREAD',
          'BLOCK',
          String(BLOCK_MS),
          'COUNT',
          String(COUNT),
          'STREAMS',
          ...keys,
          ...ids,
        ]);
        this.inflight = null;
        if (reply) this.deliver(reply);
        await this.checkOwners();
      }
    } catch (err) {
      this.inflight = null;
      const error = err && err.code === 'STORE_UNAVAILABLE' ? err : unavailable(err.message, err);
      for (const group of [...this.groups.values()]) for (const w of [...group.waiters]) w.reject(error);
    } finally {
      this.running = false;
    }
    if (this.groups.size > 0 && !this.closed) this.run();
  }

  deliver(reply) {
    for (const [key, entries] of reply) {
      const group = this.groups.get(key);
      if (group === undefined || entries.length === 0) continue;
      for (const w of [...group.waiters]) {
        let i = 0;
        while (i < entries.length && compareIds(entries[i][0], w.cursor) <= 0) i++;
        if (i < entries.length) w.resolve(i === 0 ? entries : entries.slice(i));
      }
    }
  }

  /** Wakes the readers of streams whose producer no longer holds the claim. */
  async checkOwners() {
    const now = Date.now();
    if (now - this.lastCheck < CHECK_MS) return;
    this.lastCheck = now;
    const due = [...this.groups.values()].filter((g) => [...g.waiters].some((w) => now - w.since >= CHECK_MS));
    if (due.length === 0) return;
    const owners = await Promise.all(due.map((g) => this.adapter.send(['GET', g.ownerKey])));
    due.forEach((group, i) => {
      if (owners[i] !== group.run) for (const w of [...group.waiters]) w.resolve('check');
    });
  }

  /** Interrupts the XREAD in flight so it is rebuilt with the new follower. */
  kick() {
    const generation = this.generation;
    const retry = () => {
      if (this.inflight === null || generation !== this.generation) return;
      if (this.clientId === null) {
        setTimeout(retry, KICK_RETRY_MS).unref();
        return;
      }
      this.adapter.send(['CLIENT', 'UNBLOCK', String(this.clientId)]).then(
        (unblocked) => {
          // 0: the XREAD has not reached Redis yet; try again until it has.
          if (unblocked === 0) setTimeout(retry, KICK_RETRY_MS).unref();
        },
        () => {},
      );
    };
    retry();
  }

  async close() {
    this.closed = true;
    const error = unavailable('the store was closed');
    for (const group of [...this.groups.values()]) for (const w of [...group.waiters]) w.reject(error);
    if (this.conn !== null) await this.conn.close();
  }
}

module.exports = { RedisFollow, compareIds };

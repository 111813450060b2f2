'use strict';

/**
 * The resume store interface: what `pipe(res, { resume: { store, id } })`
 * writes to and `store.resume(id)` reads from. createMemoryStore() and
 * createRedisStore() implement it; docs/resume-store.md explains how to add
 * another. Every method but append() and onStop() is async.
 *
 * Data model. A stream (user-chosen id) is: meta written at claim, then
 * batches of deltas, then one end record. Deltas carry sequence numbers 1, 2,
 * 3, ... across the whole stream (several forwarded steps included); these
 * are the SSE event ids. A reader that saw event N resumes with `after: N`.
 *
 * @typedef {object} ResumeBatch
 * @property {number} first seq of the batch's first delta (integer >= 1; the
 *   previous batch's first + count, or 1)
 * @property {number} count deltas in the batch (>= 1)
 * @property {string | Uint8Array} data the deltas as the worker writes them
 *   for JavaScript: `<Delta JSON>,<Delta JSON>,` (each comma-terminated)
 *
 * @typedef {{ ok: true, summary?: object } |
 *   { ok: false, error: { code: string, message: string, status?: number, retryAfterMs?: number }, summary?: object }} ResumeTerminal
 *
 * @typedef {{ type: 'meta', meta: object } |
 *   { type: 'batch', first: number, count: number, data: string } |
 *   ({ type: 'end' } & ResumeTerminal)} ResumeEntry
 *   What read() yields: one `meta`, the batches after `after` in order (the
 *   first one cut if it straddles `after`), then one `end`.
 *
 * @typedef {object} ResumeStore
 * @property {(id: string, meta?: object, options?: { ttlSeconds?: number }) => Promise<void>} claim
 *   Starts stream `id` with this instance as its producer. Atomic: while
 *   another producer (any instance) holds `id`, rejects with RelayError
 *   INVALID_ARGUMENT, `status` 409. A finished or lost stream under the same
 *   id is replaced. Store down: STORE_UNAVAILABLE.
 * @property {(id: string, batch: ResumeBatch) => void} append
 *   Logs one batch. Synchronous and cheap (one call per stream per main-loop
 *   wakeup); never throws or rejects because of the store: what cannot be
 *   logged is dropped and counted, and the stream's readers end with
 *   STORE_UNAVAILABLE instead of a gap. Throws INVALID_ARGUMENT for a bad
 *   batch or an id this instance has not claimed.
 * @property {(id: string, terminal: ResumeTerminal) => Promise<void>} end
 *   Writes the end record and releases the claim; the stream stays readable
 *   for ttlSeconds. Never rejects because of the store.
 * @property {(id: string, options?: { after?: number, signal?: AbortSignal }) => AsyncIterableIterator<ResumeEntry>} read
 *   Entries after seq `after`, following a live stream until its end. Its
 *   next() rejects with NOT_FOUND (unknown, expired or replaced id),
 *   PRODUCER_LOST (the producer stopped without an end record, after every
 *   logged batch), STORE_UNAVAILABLE, or LIMIT (the bounded log no longer
 *   holds event after + 1). return() (or the signal) ends it at once.
 * @property {(id: string) => Promise<boolean>} stop
 *   Asks the producer of `id`, on whichever instance, to stop (its onStop
 *   listeners run). Resolves true if a live producer held the id.
 * @property {(id: string, listener: () => void) => () => void} onStop
 *   Producer side: runs `listener` (once) when someone stops `id`. Only for a
 *   claimed id; the listeners go at end(). Returns the remove function.
 * @property {() => Promise<void>} close
 *   Releases timers and connections. Readers still waiting end with
 *   STORE_UNAVAILABLE; live streams are abandoned (their readers elsewhere
 *   get PRODUCER_LOST).
 */

const { invalidArgument } = require('../errors');
const { describe } = require('../validate');

const METHODS = ['claim', 'append', 'end', 'read', 'stop', 'onStop', 'close'];

/** For `resume.store` options: an object with every method of the interface. */
function checkStore(store, name = 'resume.store') {
  const missing =
    store !== null && typeof store === 'object' ? METHODS.filter((m) => typeof store[m] !== 'function') : METHODS;
  if (missing.length > 0) {
    throw invalidArgument(
      `Expected a resume store (createMemoryStore(), createRedisStore() or an object with ${METHODS.join(', ')}) for ${name} but received ${describe(store)}${store && typeof store === 'object' ? ` (missing ${missing.join(', ')})` : ''}`,
    );
  }
  return store;
}

module.exports = { checkStore, STORE_METHODS: METHODS };

'use strict';

// The producer side of a resumable relay (`pipe(res, { resume })`,
// `toResponse({ resume })`, `createRelay(res, { resume })`): claims the id in
// the store, logs every batch the worker hands over, writes the end record,
// and aborts the stream when someone calls store.stop(id) or nobody has read
// it for `abandonAfterMs`.
//
// Cost: the worker writes each delta's Delta JSON to the stream's log
// (src/pipeline/pipeline.h) and hands every resumable relay's entries over
// at once on the engine's log tick (src/output/log_pacer.h: every 20 to
// 200 ms, longer with more relays), all in one Buffer per wakeup (lib/binding.js
// logBatch: a view, no copy). So logging costs one store.append() per stream
// per tick, not one per token.

const { RelayError, invalidArgument } = require('../errors');
const { describe, isPlainObject } = require('../validate');
const { checkStore, checkId } = require('../resume');
const { inBandError } = require('./in-band-error');

const RESUME_KEYS = ['store', 'id', 'abandonAfterMs'];
// setTimeout's limit: a larger delay silently becomes 1 ms.
const MAX_DELAY_MS = 2 ** 31 - 1;
// How often an abandoned-stream check runs at most (each asks the store).
const ABANDON_CHECK_MS = 1000;

function noop() {}

/** The response header that names a resumable stream. */
const STREAM_ID_HEADER = 'llm-relay-stream-id';

/**
 * Validates a `resume` option: `{ store, id, abandonAfterMs? }`.
 * @param {unknown} value
 * @param {string} where e.g. 'pipe() options'
 * @returns {{ store: import('../../index').ResumeStore, id: string, abandonAfterMs: number | undefined }}
 */
function resumeOption(value, where) {
  if (!isPlainObject(value)) {
    throw invalidArgument(
      `Expected { store, id, abandonAfterMs? } for resume in the ${where} but received ${describe(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!RESUME_KEYS.includes(key))
      throw invalidArgument(`Unknown option resume.${key} in the ${where}; expected one of ${RESUME_KEYS.join(', ')}`);
  }
  const store = checkStore(value.store, 'resume.store');
  const id = checkId(value.id, 'resume.id');
  const ms = value.abandonAfterMs;
  if (ms !== undefined && (!Number.isInteger(ms) || ms < 1 || ms > MAX_DELAY_MS)) {
    throw invalidArgument(
      `Expected a positive integer number of milliseconds (at most ${MAX_DELAY_MS}) for resume.abandonAfterMs but received ${describe(ms)}`,
    );
  }
  return { store, id, abandonAfterMs: ms };
}

/** A store error as the RelayError a server answers with (409, 503, ...). */
function asRelayError(err) {
  if (err instanceof RelayError) return err;
  return new RelayError(
    'STORE_UNAVAILABLE',
    `Resume store unavailable: ${err && err.message ? err.message : String(err)}`,
    { status: 503, cause: err },
  );
}

class ResumeProducer {
  /**
   * @param {{ store: object, id: string, abandonAfterMs?: number }} resume a validated resume option
   * @param {(reason: Error) => void} abort ends the stream (or the relay) with ABORTED
   */
  constructor(resume, abort) {
    this.store = resume.store;
    this.id = resume.id;
    this.abandonAfterMs = resume.abandonAfterMs;
    this.abort = abort;
    this.claimed = false;
    this.finished = false;
    this.nextSeq = 1; // the sequence number the next delta gets
    this.removeStop = undefined;
    this.timer = undefined;
    this.lastSeen = 0;
  }

  /** The response header naming the stream, for the relay's head. */
  get header() {
    return [STREAM_ID_HEADER, this.id];
  }

  /**
   * Claims the id (atomic in the store). Rejects with the RelayError to
   * answer: INVALID_ARGUMENT status 409 for a live id, STORE_UNAVAILABLE 503.
   * @param {object} meta what readers need to encode the stream as it was sent
   */
  async claim(meta) {
    try {
      await this.store.claim(this.id, meta);
    } catch (err) {
      throw asRelayError(err);
    }
    this.claimed = true;
    this.removeStop = this.store.onStop(this.id, () => {
      this.abort(new RelayError('ABORTED', `store.stop(${JSON.stringify(this.id)}) was called`));
    });
  }

  /** A record's log batch (binding.js logBatch): one append. */
  log(batch) {
    this.append(batch);
  }

  /** One batch { first, count, data } (createRelay logs its own events too). */
  append(batch) {
    if (!this.claimed || this.finished) return;
    this.nextSeq = batch.first + batch.count;
    try {
      this.store.append(this.id, batch);
    } catch (err) {
      // Stores throw only for programming errors (docs/resume-store.md);
      // a log that cannot follow the stream must not pretend to.
      this.abort(new RelayError('ABORTED', `The resume store refused a batch: ${err && err.message}`, { cause: err }));
    }
  }

  /**
   * The live client left. Without abandonAfterMs that is all; with it, the
   * stream is aborted once nobody has read it for that long: neither this
   * client nor a reader of `store.resume(id)` on any instance
   * (`store.hasReaders(id)`, where the store has it).
   */
  clientLeft() {
    if (this.abandonAfterMs === undefined || this.finished || this.timer !== undefined) return;
    this.lastSeen = Date.now();
    this.#schedule();
  }

  #schedule() {
    const every = Math.max(10, Math.min(ABANDON_CHECK_MS, Math.ceil(this.abandonAfterMs / 4)));
    this.timer = setTimeout(() => this.#check(), every);
    this.timer.unref();
  }

  async #check() {
    if (this.finished) return;
    let reading = false;
    if (typeof this.store.hasReaders === 'function') {
      try {
        reading = (await this.store.hasReaders(this.id)) === true;
      } catch {
        // A store that cannot answer cannot serve a reader either.
        reading = false;
      }
    }
    if (this.finished) return;
    const now = Date.now();
    if (reading) this.lastSeen = now;
    if (now - this.lastSeen >= this.abandonAfterMs) {
      this.timer = undefined;
      this.abort(
        new RelayError(
          'ABORTED',
          `Nobody read stream ${JSON.stringify(this.id)} for resume.abandonAfterMs (${this.abandonAfterMs} ms)`,
        ),
      );
      return;
    }
    this.#schedule();
  }

  /**
   * Writes the end record: `{ ok: true, summary }` or `{ ok: false, error,
   * summary }` with the error's in-band fields (what the live client was
   * told; never a provider's error body). Never rejects.
   */
  finish(error, summary) {
    if (this.finished) return Promise.resolve();
    this.finished = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.removeStop !== undefined) this.removeStop();
    if (!this.claimed) return Promise.resolve();
    const terminal = error === undefined ? { ok: true, summary } : { ok: false, error: inBandError(error), summary };
    try {
      return Promise.resolve(this.store.end(this.id, terminal)).catch(noop);
    } catch {
      // A store of one's own that throws: the stream has ended all the same.
      return Promise.resolve();
    }
  }
}

/**
 * The meta a producer of one LLMStream stores: what a reader needs to encode
 * the stream byte for byte as the live relay did (the response id the
 * formats carry, the model and created time of the `openai` format).
 */
function streamMeta(info) {
  return {
    kind: 'stream',
    responseId: info.responseId,
    model: info.model || '',
    created: info.created,
    startedAt: Date.now(),
  };
}

module.exports = { resumeOption, ResumeProducer, streamMeta, asRelayError, STREAM_ID_HEADER };

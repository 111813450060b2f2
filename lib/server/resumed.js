'use strict';

// store.resume(id, { lastEventId }): a reader of a resumable stream, on any
// instance that shares the store. It yields the events after `lastEventId`
// (all of them without it), then follows the live rest, each exactly once,
// then the normal end; as Deltas (`for await`), or as a response in any
// format (`pipe(res)`, `toResponse()`), byte for byte what the live relay
// sent after that event (replayer.js).
//
// Status codes, decided by the store's first answer, before any byte of the
// stream: 200 and the stream; 404 (NOT_FOUND: unknown, expired or replaced
// id), 503 (STORE_UNAVAILABLE), 410 (LIMIT: the bounded log no longer holds
// what the client needs), each with the JSON body `{"error":{code,message}}`.
// Later failures (PRODUCER_LOST, a store that goes away mid-read) are the
// format's error event, like any error after the 200.

const { RelayError } = require('../errors');
const { checkId, parseLastEventId, terminalError } = require('../resume');
const { relayOptions } = require('./relay-options');
const { checkResponse } = require('./node-response');
const { NodeOutput, WebOutput } = require('./outputs');
const { Replayer, isStepMarker, readFrom } = require('./replayer');
const { STREAM_ID_HEADER } = require('./resume-producer');
const { isPlainObject, describe } = require('../validate');
const { invalidArgument } = require('../errors');

const RESUME_OPTIONS = ['lastEventId', 'signal'];
const kTake = Symbol('llm-relay.take');

function noop() {}

/**
 * A resumed stream: a ReadableStream of Deltas with pipe() and toResponse().
 * Consume it one way only. Nothing is read from the store before that.
 * @extends {ReadableStream<import('../../index').Delta>}
 */
class ResumedStream extends ReadableStream {
  #store;
  #id;
  #after;
  #signal;
  #taken = '';

  constructor(store, id, after, signal) {
    let iterator;
    let controller;
    super(
      {
        start: (c) => {
          controller = c;
        },
        pull: async () => {
          if (iterator === undefined) {
            if (this.#taken !== '' && this.#taken !== 'read') {
              controller.error(
                new RelayError('INVALID_ARGUMENT', `This resumed stream is already consumed by ${this.#taken}()`),
              );
              return;
            }
            this.#taken = 'read';
            iterator = store.read(id, { after, signal });
          }
          await pullDeltas(iterator, controller);
        },
        cancel: () => {
          if (iterator !== undefined) iterator.return();
        },
      },
      { highWaterMark: 0 },
    );
    this.#store = store;
    this.#id = id;
    this.#after = after;
    this.#signal = signal;
  }

  /** The stream id. */
  get id() {
    return this.#id;
  }

  /** The last event id the reader had seen (0: none): events after it are delivered. */
  get lastEventId() {
    return this.#after;
  }

  [kTake](api) {
    if (this.#taken !== '' || this.locked) {
      throw new RelayError(
        'INVALID_ARGUMENT',
        `This resumed stream is already consumed${this.#taken ? ` by ${this.#taken}()` : ''}; pipe()/toResponse()/for await must be its only consumer`,
      );
    }
    this.#taken = api;
  }

  /**
   * Relays the stream to a Node ServerResponse (Express, node:http).
   * Options: `format` (default 'sse'), `heartbeatMs` (default 15000: the
   * format's idle bytes while a live stream is quiet), `headers`.
   * Resolves with the stream's summary (its end record), rejects with the
   * RelayError that ended it (after telling the client: a status and JSON
   * body before the stream, the format's error event after).
   * @param {import('node:http').ServerResponse} res
   * @param {{ format?: string, heartbeatMs?: number, headers?: object }} [opts]
   * @returns {Promise<object>}
   */
  pipe(res, opts) {
    const options = readerOptions(opts, 'pipe');
    checkResponse(res);
    this[kTake]('pipe');
    const out = new NodeOutput(res, options, [[STREAM_ID_HEADER, this.#id]]);
    const done = relay(this.#store, this.#id, this.#after, options.format, out, this.#signal);
    done.catch(noop);
    return done;
  }

  /**
   * A web Response with the stream (Next.js route handlers). A Promise: the
   * store's first answer decides the status (200, 404, 410, 503). Options as
   * for pipe(), and `signal` (the request's): the client leaving stops the
   * read at once.
   * @param {{ format?: string, heartbeatMs?: number, headers?: object, signal?: AbortSignal }} [opts]
   * @returns {Promise<Response>}
   */
  toResponse(opts) {
    const options = readerOptions(opts, 'toResponse');
    this[kTake]('toResponse');
    const out = new WebOutput(options, [[STREAM_ID_HEADER, this.#id]]);
    relay(this.#store, this.#id, this.#after, options.format, out, this.#signal).catch(noop);
    return out.responsePromise;
  }
}

/** One pull of the object-mode reader: the next batch's deltas, or the end. */
async function pullDeltas(iterator, controller) {
  for (;;) {
    let step;
    try {
      step = await iterator.next();
    } catch (err) {
      controller.error(err);
      return;
    }
    if (step.done) {
      controller.close();
      return;
    }
    const entry = step.value;
    if (entry.type === 'batch') {
      if (isStepMarker(entry)) continue;
      // One JSON.parse per batch, as LLMStream does.
      const deltas = JSON.parse(`[${entry.data.slice(0, -1)}]`);
      for (let i = 0; i < deltas.length; i++) controller.enqueue(deltas[i]);
      return;
    }
    if (entry.type === 'end') {
      iterator.return();
      if (entry.ok) controller.close();
      else controller.error(terminalError(entry));
      return;
    }
    // meta: nothing to yield
  }
}

/**
 * Reads the store and writes the replayed bytes to `out` (outputs.js),
 * with backpressure and heartbeats. Settles like LLMStream#pipe.
 */
async function relay(store, id, after, format, out, signal) {
  const iterator = store.read(id, { after: readFrom(format, after), signal });
  out.onGone(() => iterator.return());
  try {
    return await replay(iterator, id, after, format, out, signal);
  } finally {
    // Also after the end entry: the store counts open readers (hasReaders).
    iterator.return();
  }
}

async function replay(iterator, id, after, format, out, signal) {
  const replayer = new Replayer(format, after);
  let first;
  try {
    first = await iterator.next();
  } catch (err) {
    out.refuse(err);
    throw err;
  }
  if (out.gone) throw clientLeft();
  if (first.done || first.value.type !== 'meta') {
    const err = new RelayError('NOT_FOUND', `Resume store: no stream with this id: ${JSON.stringify(id)}`, {
      status: 404,
    });
    out.refuse(err);
    throw err;
  }
  out.head();
  out.write(replayer.start(first.value.meta));
  for (;;) {
    let step;
    try {
      step = await iterator.next();
    } catch (err) {
      finishWith(out, format, replayer.fail(err), err);
      throw err;
    }
    if (out.gone) throw clientLeft();
    if (step.done) {
      // The resume() signal was aborted.
      const err = new RelayError('ABORTED', 'The resumed stream was aborted', { cause: signal && signal.reason });
      out.cut(err);
      throw err;
    }
    const entry = step.value;
    if (entry.type === 'batch') {
      if (!out.write(replayer.batch(entry))) await out.drained();
      continue;
    }
    if (entry.type === 'end') {
      const tail = replayer.end(entry);
      if (entry.ok) {
        out.end(tail);
        return entry.summary;
      }
      const err = terminalError(entry);
      finishWith(out, format, tail, err);
      throw err;
    }
  }
}

/** An error after the 200: the format's error event, or for 'text' a cut body. */
function finishWith(out, format, tail, error) {
  if (format === 'text' || tail.length === 0) out.cut(error);
  else out.end(tail);
}

function clientLeft() {
  return new RelayError('ABORTED', 'The client closed the connection before the resumed stream ended');
}

function readerOptions(opts, api) {
  const options = relayOptions(opts, api);
  if (options.resume !== undefined || options.errorStatus || options.flushMs !== 0) {
    const key = options.resume !== undefined ? 'resume' : options.errorStatus ? 'errorStatus' : 'flushMs';
    throw invalidArgument(
      `Unknown option ${JSON.stringify(key)} for a resumed stream's ${api}(); expected one of format, heartbeatMs, headers${api === 'toResponse' ? ', signal' : ''}`,
    );
  }
  return options;
}

/**
 * `store.resume(id, { lastEventId, signal })`: the reader of stream `id`.
 * `lastEventId`: the Last-Event-ID header (EventSource sends it by itself;
 * fetch clients set it), a string or number; missing or empty replays all.
 * Throws INVALID_ARGUMENT for a bad id or event id.
 * @param {import('../../index').ResumeStore} store
 * @param {string} id
 * @param {{ lastEventId?: string | number | null, signal?: AbortSignal }} [options]
 * @returns {ResumedStream}
 */
function resume(store, id, options) {
  checkId(id);
  let opts = options;
  if (opts === undefined || opts === null) opts = {};
  if (!isPlainObject(opts))
    throw invalidArgument(`Expected an object for the resume() options but received ${describe(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!RESUME_OPTIONS.includes(key))
      throw invalidArgument(
        `Unknown option ${JSON.stringify(key)} in the resume() options; expected one of ${RESUME_OPTIONS.join(', ')}`,
      );
  }
  const after = parseLastEventId(opts.lastEventId);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw invalidArgument(`Expected an AbortSignal for signal but received ${describe(opts.signal)}`);
  }
  return new ResumedStream(store, id, after, opts.signal);
}

module.exports = { resume, ResumedStream };

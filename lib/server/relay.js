'use strict';

// createRelay(): several steps and app events in one response, for agent
// loops (stream a step, run a tool, write its result, stream the next step).
//
//   const relay = createRelay(res, { format: 'ui-message' });
//   relay.write({ type: 'data', name: 'status', data: { step: 1 } });
//   const first = await relay.forward(stream({ ... }));   // the step's summary
//   await relay.forward(stream({ ... }));
//   relay.end();                                          // one [DONE]
//
// The response is one message: the relay writes its start, its `data`
// events and its end with an "outer" encoder on the main thread
// (binding.createEncoder), and each forwarded stream is encoded by the worker
// as a step (no message start, no [DONE]; in ui-message start-step …
// finish-step), with the relay's message id.
//
// Operations run in call order: a write() or forward() made while a step is
// being forwarded waits for that step to end (forward() calls the relay
// took are held by their streams meanwhile, bounded, as an unread stream
// is). The body is written by Node, also during steps (the worker's direct
// socket writes are for pipe() of one stream): each step batch is one
// res.write, as pipe() does without direct mode.
//
// Ending: end() writes the format's end once. A step that fails ends the
// relay with its error event (forward() rejects with it; later forward()
// calls abort their streams and reject). A client that leaves aborts the
// step in flight and ends the relay. With `resume`, the client leaving does
// not: the relay goes on for readers of store.resume(id) and logs every
// event (its data events as one-delta batches, and a marker per step,
// replayer.js); store.stop(id) or resume.abandonAfterMs aborts it.

const crypto = require('node:crypto');
const binding = require('../binding');
const { RelayError, invalidArgument } = require('../errors');
const { describe, isPlainObject } = require('../validate');
const { kRelay, kReserve, kInfo } = require('../internal');
const { relayOptions } = require('./relay-options');
const { checkResponse } = require('./node-response');
const { NodeOutput, WebOutput } = require('./outputs');
const { RelayWriter } = require('./relay-writer');
const { encodeInBandError } = require('./in-band-error');
const { ResumeProducer } = require('./resume-producer');
const { stepMarker } = require('./replayer');

const NODE_KEYS = ['format', 'heartbeatMs', 'headers', 'resume'];
const WEB_KEYS = ['format', 'heartbeatMs', 'headers', 'signal', 'resume'];
const MAX_NAME_LENGTH = 256;

function noop() {}

function abortError(reason) {
  return new RelayError(
    'ABORTED',
    reason instanceof Error && reason.message ? `The relay was aborted: ${reason.message}` : 'The relay was aborted',
    { cause: reason },
  );
}

function checkKeys(opts, keys, api) {
  if (opts === undefined || opts === null) return {};
  if (!isPlainObject(opts))
    throw invalidArgument(`Expected an object for the ${api} options but received ${describe(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!keys.includes(key))
      throw invalidArgument(
        `Unknown option ${JSON.stringify(key)} in the ${api} options; expected one of ${keys.join(', ')}`,
      );
  }
  return opts;
}

/** A data delta: `{ type: 'data', name, data }`; returns its name and data as JSON. */
function checkDataDelta(delta) {
  if (!isPlainObject(delta) || delta.type !== 'data') {
    throw invalidArgument(
      `Expected { type: 'data', name, data } for relay.write() but received ${describe(delta)}${isPlainObject(delta) ? ` with type ${describe(delta.type)}` : ''}`,
    );
  }
  const { name } = delta;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f]/.test(name)) {
    throw invalidArgument(
      `Expected a string of 1 to ${MAX_NAME_LENGTH} characters without control characters for the data event's name but received ${describe(name)}`,
    );
  }
  let json;
  try {
    json = JSON.stringify(delta.data === undefined ? null : delta.data);
  } catch (err) {
    throw invalidArgument(
      `Expected JSON-serializable data for the data event ${JSON.stringify(name)} but JSON.stringify failed: ${err.message}`,
    );
  }
  if (json === undefined)
    throw invalidArgument(
      `Expected JSON-serializable data for the data event ${JSON.stringify(name)} but received ${describe(delta.data)}`,
    );
  return { name, json };
}

class Relay {
  #out;
  #format;
  #outer;
  #producer;
  #messageId;
  #chain;
  #state = 'open'; // 'open' | 'done' | 'failed'
  #failure;
  #endCalled = false;
  #step = null; // { stream } of the step in flight
  #summaries = [];
  #resolveDone;
  #rejectDone;

  constructor(out, options) {
    this.#out = out;
    this.#format = options.format;
    this.#messageId = `chatcmpl-relay${crypto.randomBytes(12).toString('hex')}`;
    const resumable = options.resume !== undefined;
    this.#outer = binding.createEncoder(this.#format, { responseId: this.#messageId, role: 'outer', ids: resumable });
    /**
     * Settles when the relay ended: resolves with `{ steps }` (each
     * forwarded step's summary) after end(), rejects with the RelayError
     * that ended it otherwise. Never an unhandled rejection.
     * @type {Promise<{ steps: object[] }>}
     */
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(noop);
    out.onGone(() => this.#clientLeft());
    if (!resumable) {
      this.#open();
      this.#chain = Promise.resolve();
      return;
    }
    this.#producer = new ResumeProducer(options.resume, (reason) => this.#abort(reason));
    this.#chain = this.#producer.claim({ kind: 'relay', responseId: this.#messageId, startedAt: Date.now() }).then(
      () => this.#open(),
      (err) => {
        this.#fail(err);
        out.refuse(err);
      },
    );
  }

  /** The relay's message id (ui-message `messageId`, openai chunk `id`). */
  get messageId() {
    return this.#messageId;
  }

  /**
   * Writes an app event, `{ type: 'data', name, data }`: in sse and ndjson
   * as that delta, in ui-message as the AI SDK's `data-<name>` part; openai
   * and text cannot carry it (nothing is written). Runs after the calls
   * before it (a step in flight ends first). Throws INVALID_ARGUMENT for a
   * bad event or after end().
   */
  write(delta) {
    const { name, json } = checkDataDelta(delta);
    if (this.#endCalled) throw invalidArgument('Expected relay.write() before relay.end() but the relay has ended');
    this.#enqueue(() => this.#writeData(name, json)).catch(noop);
  }

  /**
   * Relays `llmStream` as the next step: its deltas, with the relay's
   * message id. Resolves with the step's summary (as `done` does); rejects
   * with its RelayError, which also ends the relay (the client got the
   * error event). Throws INVALID_ARGUMENT synchronously for something that
   * is not an unconsumed LLMStream.
   * @param {import('../stream').LLMStream} llmStream
   * @returns {Promise<import('../../index').StreamSummary>}
   */
  forward(llmStream) {
    const { LLMStream } = require('../stream');
    if (!(llmStream instanceof LLMStream)) {
      throw invalidArgument(
        `Expected an LLMStream (from stream()) for relay.forward() but received ${describe(llmStream)}`,
      );
    }
    if (this.#endCalled) throw invalidArgument('Expected relay.forward() before relay.end() but the relay has ended');
    llmStream[kReserve]();
    const result = this.#enqueue(() => this.#forward(llmStream), llmStream);
    result.catch(noop);
    return result;
  }

  /** Ends the response with the format's end ([DONE]), once. */
  end() {
    if (this.#endCalled) return;
    this.#endCalled = true;
    this.#enqueue(() => this.#finish()).catch(noop);
  }

  #enqueue(op, stream) {
    const run = () => {
      if (this.#state !== 'open') {
        if (stream !== undefined) stream.abort(this.#failure);
        return this.#state === 'failed' ? Promise.reject(this.#failure) : undefined;
      }
      return op();
    };
    const p = this.#chain.then(run);
    this.#chain = p.catch(noop);
    return p;
  }

  #open() {
    this.#out.head();
    this.#out.write(this.#outer.start(true));
  }

  async #writeData(name, json) {
    const seq = this.#producer !== undefined ? this.#producer.nextSeq : 0;
    const ok = this.#out.write(this.#outer.data(name, json, seq));
    if (this.#producer !== undefined) {
      this.#producer.append({
        first: seq,
        count: 1,
        data: `{"type":"data","name":${JSON.stringify(name)},"data":${json}},`,
      });
    }
    if (!ok) await this.#out.drained();
  }

  #forward(stream) {
    const out = this.#out;
    const producer = this.#producer;
    let firstSeq = 0;
    if (producer !== undefined) {
      const info = stream[kInfo];
      const marker = producer.nextSeq;
      producer.append({ first: marker, count: 1, data: stepMarker(info.model || '', info.created) });
      firstSeq = marker + 1;
    }
    return new Promise((resolve, reject) => {
      const writer = new RelayWriter(stream, { flushMs: 0 }, (bytes) => out.write(bytes));
      const removeDrain = out.onDrain(() => writer.resume());
      const sink = {
        head: noop,
        data: (bytes) => {
          if (!out.gone) writer.data(bytes);
        },
        log: (batch) => producer.log(batch),
        end: (error, summary, tail) => {
          removeDrain();
          writer.stop();
          this.#step = null;
          this.#summaries.push(summary);
          if (error === undefined) {
            if (tail !== undefined) out.write(tail);
            resolve(summary);
            return;
          }
          // The step's error event (encoded by the worker, or here for a
          // stream that failed before the relay took it) ends the relay.
          this.#endWithError(error, tail === undefined ? encodeInBandError(this.#format, error) : tail, true);
          reject(error);
        },
      };
      this.#step = { stream };
      stream[kRelay](this.#format, sink, {
        role: 'step',
        messageId: this.#messageId,
        firstSeq,
        outlivesClient: producer !== undefined,
        reserved: true,
      });
      // A client that left while the step waited its turn.
      if (out.gone && producer === undefined) stream.abort(this.#failure);
    });
  }

  #finish() {
    this.#state = 'done';
    this.#out.end(this.#outer.done());
    const summary = { steps: this.#summaries };
    if (this.#producer !== undefined) this.#producer.finish(undefined, summary);
    this.#resolveDone(summary);
  }

  /** Ends the relay with an error event (`tail`); `inStep`: raised by a step. */
  #endWithError(error, tail, inStep) {
    if (this.#state !== 'open') return;
    this.#fail(error);
    if (this.#format === 'text' || tail === undefined || tail.length === 0) this.#out.cut(error);
    else this.#out.end(tail);
    if (this.#producer !== undefined) this.#producer.finish(error, { steps: this.#summaries, stepOpen: inStep });
  }

  #fail(error) {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#failure = error;
    this.#rejectDone(error);
  }

  /** store.stop(id), abandonAfterMs: the step in flight ends the relay, or the relay ends now. */
  #abort(reason) {
    if (this.#state !== 'open') return;
    if (this.#step !== null) {
      this.#step.stream.abort(reason);
      return;
    }
    const error = abortError(reason);
    const fields = { code: error.code, message: error.message };
    this.#endWithError(error, this.#outer.error(fields), false);
  }

  #clientLeft() {
    if (this.#state !== 'open') return;
    if (this.#producer !== undefined) {
      this.#producer.clientLeft();
      return;
    }
    const error = new RelayError('ABORTED', 'The client closed the connection before the relay ended');
    const step = this.#step;
    this.#fail(error);
    if (step !== null) step.stream.abort(error);
  }
}

/**
 * Creates a multi-step relay.
 * - `createRelay(res, opts)`: writes to a Node ServerResponse (Express,
 *   node:http).
 * - `createRelay(opts)`: for web handlers; return `relay.response` (a
 *   Response; with `resume`, a Promise of one: the claim decides between
 *   200 and 409/503).
 * Options: `format` (default 'sse'), `heartbeatMs` (default 15000), `headers`,
 * `signal` (web: the request's), `resume: { store, id, abandonAfterMs? }`.
 * @returns {Relay}
 */
function createRelay(target, opts) {
  const isRes =
    target !== null &&
    typeof target === 'object' &&
    typeof target.setHeader === 'function' &&
    typeof target.write === 'function';
  if (isRes) {
    const options = relayOptions(checkKeys(opts, NODE_KEYS, 'createRelay(res, options)'), 'pipe');
    checkResponse(target, 'createRelay(res)');
    const extra = options.resume === undefined ? [] : [['llm-relay-stream-id', options.resume.id]];
    return new Relay(new NodeOutput(target, options, extra), options);
  }
  if (opts !== undefined) {
    throw invalidArgument(
      `Expected createRelay(res, options) or createRelay(options) but received a second argument with ${describe(target)} as the first`,
    );
  }
  const options = relayOptions(checkKeys(target, WEB_KEYS, 'createRelay()'), 'toResponse');
  const extra = options.resume === undefined ? [] : [['llm-relay-stream-id', options.resume.id]];
  const out = new WebOutput(options, extra);
  const relay = new Relay(out, options);
  // A Response now, or (resumable) once the claim is done.
  relay.response = options.resume === undefined ? out.response : out.responsePromise;
  return relay;
}

module.exports = { createRelay, Relay };

'use strict';

// toResponse(): relays an LLMStream as a web Response (Next.js App Router
// route handlers, Hono, Bun, Deno, any fetch-API server). Its body is a
// ReadableStream<Uint8Array> fed with the worker's encoded batches as they
// are, one chunk per stream per main-loop wakeup.
//
// Limits, for the README:
// - The Response exists before the provider has answered, so its status is
//   always 200 and an error reaches the client in-band, as the format's error
//   event (`event: error` for sse); for 'text' the body errors instead, so the
//   client sees a failed read rather than a clean end. `errorStatus` is
//   rejected with INVALID_ARGUMENT; use pipe(res, { errorStatus: true }).
// - No `Connection` header: a Response cannot know whether HTTP/1.1 or
//   HTTP/2 will carry it, HTTP/2 forbids connection-specific headers, and
//   Node's http server already sends `Connection: keep-alive` on HTTP/1.1.
// - Pass the request's signal (`toResponse({ signal: req.signal })`): not
//   every framework cancels the body when the client leaves, and either one
//   aborts the provider request.
// - `resume: { store, id }` makes it resumable (README "Resume"): then
//   toResponse() returns a Promise<Response>, since the claim decides the
//   status (200, or 409 / 503 with a JSON body), and neither the signal nor
//   a cancelled body aborts the provider request.

const { kRelay, kReserve, kInfo } = require('../internal');
const { relayOptions, streamHeaders, errorAnswer } = require('./relay-options');
const { ResumeProducer, streamMeta } = require('./resume-producer');
const { RelayWriter, heartbeatOf } = require('./relay-writer');
const { encodeInBandError } = require('./in-band-error');

// How many encoded bytes the body may queue before the provider transfer
// pauses: a few batches, so a reader that keeps up never stalls the worker.
const BODY_HIGH_WATER_BYTES = 64 * 1024;

class WebRelay {
  /** @param {object} [producer] a ResumeProducer: see NodeRelay in node.js */
  constructor(stream, options, producer = undefined) {
    this.stream = stream;
    this.options = options;
    this.producer = producer;
    this.controller = undefined;
    this.closed = false; // the body was closed, errored or cancelled
    this.finished = false; // sink.end ran
    this.writer = new RelayWriter(stream, options, (bytes) => this.#enqueue(bytes));
    // The request's signal: the client left. A plain relay aborts (the body
    // still ends, with the error event); a resumable one goes on.
    this.onAbort = () => {
      if (this.producer !== undefined) this.#clientLeft(this.options.signal.reason);
      else this.stream.abort(this.options.signal.reason);
    };
    this.body = new ReadableStream(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // The reader caught up: let the provider transfer run again.
        pull: () => this.writer.resume(),
        // The consumer gave up on the body (client disconnect in Next.js,
        // reader.cancel()): stop paying for tokens nobody will read.
        cancel: (reason) => this.#clientLeft(reason),
      },
      { highWaterMark: BODY_HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  begin() {
    const headers = new Headers();
    for (const [name, value] of streamHeaders(this.options, { keepAlive: false })) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.set(name, value);
    }
    const response = new Response(this.body, { status: 200, headers });
    // Fallback for a stream that ended before it became a relay (a signal
    // that was already aborted): the worker then never calls end(). `done`
    // settles after end() when end() does run, so this is a no-op otherwise.
    this.stream.done.then(
      (summary) => this.end(undefined, summary, undefined, true),
      (error) => this.end(error, error.partial, undefined, true),
    );
    const { signal } = this.options;
    if (signal !== undefined) {
      if (signal.aborted) this.onAbort();
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
    return response;
  }

  // ---- sink: called by the stream with the worker's records ----

  head() {
    // The status and headers went out with the Response already.
  }

  data(bytes) {
    if (!this.closed) this.writer.data(bytes);
  }

  /** A resumable relay's log batch { first, count, data } (after the batch's bytes). */
  log(batch) {
    this.producer.log(batch);
  }

  end(error, summary, tail) {
    if (this.finished) return;
    this.finished = true;
    if (this.options.signal !== undefined) this.options.signal.removeEventListener('abort', this.onAbort);
    if (this.producer !== undefined) this.producer.finish(error, summary);
    if (this.closed) {
      this.writer.stop();
      return;
    }
    this.writer.finish();
    this.closed = true;
    // A stream that ended before it became a relay (`fallback`) has no error
    // event from the worker: the same one is encoded here.
    if (error !== undefined && tail === undefined) tail = encodeInBandError(this.options.format, error);
    try {
      if (error !== undefined && (this.options.format === 'text' || tail === undefined)) {
        // Plain text cannot carry an error: fail the body so the reader sees
        // an error instead of a clean end.
        this.controller.error(error);
        return;
      }
      if (tail !== undefined) this.controller.enqueue(toView(tail));
      this.controller.close();
    } catch {
      // The body was cancelled in between; nothing is left to tell.
    }
  }

  // The body was cancelled or the request's signal aborted: the client left.
  // A resumable stream goes on for its readers; any other one is aborted.
  #clientLeft(reason) {
    if (this.closed && this.finished) return;
    const wasClosed = this.closed;
    this.closed = true;
    if (this.producer !== undefined) {
      this.writer.release();
      if (!this.finished && !wasClosed) this.producer.clientLeft();
      return;
    }
    this.writer.stop();
    if (!this.finished) this.stream.abort(reason);
  }

  #enqueue(bytes) {
    if (this.closed) return true;
    const view = toView(bytes);
    try {
      this.controller.enqueue(view);
    } catch {
      return true;
    }
    return this.controller.desiredSize > 0;
  }
}

/** A web Response for an answer of errorAnswer() (a JSON error body). */
function answerResponse(answer, extraHeaders = []) {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.set(name, value);
  for (const [name, value] of extraHeaders) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return new Response(answer.body, { status: answer.status, headers });
}

/** A plain Uint8Array over a Buffer's bytes (zero-copy): fetch bodies carry Uint8Array. */
function toView(buffer) {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A web Response streaming `stream` (LLMStream#toResponse calls this).
 *
 * Options (all optional): `format`, `heartbeatMs`, `flushMs` and `headers` as
 * for pipe(), and `signal`: the request's AbortSignal (`req.signal`), whose
 * abort aborts the provider request, as does cancelling the body. The body
 * queues up to 64 KiB unread before the provider transfer pauses.
 * `errorStatus` throws INVALID_ARGUMENT (see the top of this file).
 * @param {import('../stream').LLMStream} stream
 * @param {import('../../index').RelayOptions} [opts]
 * @returns {Response}
 */
function toResponse(stream, opts) {
  const options = relayOptions(opts, 'toResponse');
  if (options.resume !== undefined) return toResponseResumable(stream, options);
  const relay = new WebRelay(stream, options);
  // Throws INVALID_ARGUMENT when the stream is already consumed.
  stream[kRelay](options.format, relay, heartbeatOf(options));
  return relay.begin();
}

/**
 * toResponse({ resume }): a Promise of the Response, because the claim
 * decides its status: 200 and the stream, or 409 (the id is live) / 503
 * (the store is down) with a JSON body. Throws synchronously (INVALID_ARGUMENT)
 * for bad options or a stream that is already consumed.
 */
function toResponseResumable(stream, options) {
  stream[kReserve]();
  const producer = new ResumeProducer(options.resume, (reason) => stream.abort(reason));
  const relayOpts = { ...options, headers: [producer.header, ...options.headers] };
  return producer.claim(streamMeta(stream[kInfo])).then(
    () => {
      const relay = new WebRelay(stream, relayOpts, producer);
      try {
        stream[kRelay](options.format, relay, {
          ...heartbeatOf(options),
          firstSeq: 1,
          outlivesClient: true,
          reserved: true,
        });
      } catch (err) {
        // Someone read the stream while the claim was in flight.
        producer.finish(err, undefined);
        stream.abort(err);
        return answerResponse(errorAnswer(err), relayOpts.headers);
      }
      return relay.begin();
    },
    (err) => {
      stream.abort(err);
      return answerResponse(errorAnswer(err), relayOpts.headers);
    },
  );
}

module.exports = { toResponse, toView, answerResponse };

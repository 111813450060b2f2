'use strict';

// stream() and LLMStream: one provider request as a web ReadableStream of
// deltas. The worker's records arrive in #onRecord, one call per batch;
// how the stream ends is in stream-end.js.

const diagnostics = require('node:diagnostics_channel');
const binding = require('./binding');
const { RelayError } = require('./errors');
const { normalize } = require('./options');
const { redact, redactURL } = require('./redact');
const { kRelay, kReserve, kPause, kResume, kInfo } = require('./internal');
const { finish, abortError, emptySummary } = require('./stream-end');

const startChannel = diagnostics.channel('llm-relay:stream:start');

// Pause the provider transfer when this much delta text (UTF-16 code units,
// plus a fixed cost per delta) waits unread. Counted in text, not in deltas:
// fragments of one batch are merged, so one delta may hold many tokens.
const MAX_QUEUED_SIZE = 256 * 1024;

/** The queue size of one delta for the backpressure strategy. */
function deltaSize(d) {
  const text = d.text !== undefined ? d.text : d.argumentsDelta !== undefined ? d.argumentsDelta : d.data;
  return 64 + (typeof text === 'string' ? text.length : 0);
}

const kState = Symbol('llm-relay.state');

/**
 * A web ReadableStream of normalized deltas from one provider request.
 * Created by `stream(options)`; the request starts at once.
 *
 * Consume it exactly one way: iterate it (`for await`), read `textStream`,
 * `pipe(res)` it, return `toResponse()`, or just `await s.done`.
 * @extends {ReadableStream<import('../index').Delta>}
 */
class LLMStream extends ReadableStream {
  /** @param {import('../index').StreamOptions} options */
  constructor(options) {
    const { config, provider, signal, model } = normalize(options);
    let controller;
    const state = {
      id: 0,
      provider,
      model,
      mode: '', // '' undecided | 'json' | 'discard' | a relay format
      controller: undefined,
      paused: false,
      ended: false,
      pendingError: undefined,
      finalError: undefined,
      finalSummary: undefined,
      abortError: undefined,
      relay: undefined,
      signal,
      onAbort: undefined,
      doneWatched: false,
      resolveDone: undefined,
      rejectDone: undefined,
      done: undefined,
      startedAt: Date.now(),
      // What downstream formats say about the answer (lib/options.js): a
      // resumable relay stores it so readers re-encode the same bytes.
      encoder: config.encoder,
      reserved: false, // a relay will take it once its resume claim is done
    };
    super(
      {
        start(c) {
          controller = c;
        },
        pull: () => {
          if (state.pendingError !== undefined) {
            // Every delta before the failure has been read: now fail.
            controller.error(state.pendingError);
            return;
          }
          this.#decide('json');
          if (state.paused) {
            state.paused = false;
            binding.command(state.id, binding.Command.RESUME);
          }
        },
        cancel: (reason) => {
          // The reader gave up (break in for-await, reader.cancel()).
          this.abort(reason);
        },
      },
      // highWaterMark 0: nothing is requested before a reader asks (pull),
      // so choosing a consumer stays open until then.
      { highWaterMark: 0, size: deltaSize },
    );
    state.controller = controller;
    state.done = new Promise((resolve, reject) => {
      state.resolveDone = resolve;
      state.rejectDone = reject;
    });
    // `done` may legitimately never be awaited; its rejection is not an
    // unhandled one (the stream itself errors too).
    state.done.catch(() => {});
    this[kState] = state;

    if (signal && signal.aborted) {
      // Aborted before start: no request is ever sent.
      state.ended = true;
      const err = abortError(signal.reason);
      err.partial = emptySummary('aborted');
      state.finalError = err;
      state.finalSummary = err.partial;
      controller.error(err);
      state.rejectDone(err);
      return;
    }

    state.id = binding.start(
      { onRecord: (head, data, end, tail, log) => this.#onRecord(head, data, end, tail, log) },
      config,
    );
    if (signal) {
      state.onAbort = () => this.abort(signal.reason);
      signal.addEventListener('abort', state.onAbort, { once: true });
    }
    if (startChannel.hasSubscribers) {
      startChannel.publish({
        id: state.id,
        provider,
        model,
        url: redact(redactURL(config.request.url), config.secrets),
        startedAt: state.startedAt,
      });
    }
  }

  /** The provider, model and internal id of this stream, and its encoder identity. */
  get [kInfo]() {
    const s = this[kState];
    return {
      provider: s.provider,
      model: s.model,
      id: s.id,
      responseId: s.encoder.responseId,
      created: s.encoder.created,
    };
  }

  /**
   * Resolves to the assembled answer when the stream completes:
   * `{ text, reasoning, toolCalls, finishReason, rawFinishReason, usage, metrics }`.
   * Rejects with the RelayError after an error or an abort; its `partial`
   * holds the summary so far. Awaiting `done` without reading the stream
   * drains the stream for you.
   * @type {Promise<import('../index').StreamSummary>}
   */
  get done() {
    const s = this[kState];
    if (!s.doneWatched) {
      s.doneWatched = true;
      // If nobody starts reading by the next macrotask, nobody will: let the
      // worker assemble the summary without handing deltas to JavaScript.
      setImmediate(() => {
        if (s.mode === '' && !s.reserved && !this.locked && !s.ended) this.#decide('discard');
      });
    }
    return s.done;
  }

  /** A ReadableStream<string> of the text deltas only (consumes this stream). */
  get textStream() {
    return this.pipeThrough(
      new TransformStream({
        transform(delta, controller) {
          if (delta.type === 'text') controller.enqueue(delta.text);
        },
      }),
    );
  }

  /**
   * Aborts the request: the upstream connection closes at once, the stream
   * errors with code ABORTED (name 'AbortError', cause = reason) and `done`
   * rejects with it.
   * @param {unknown} [reason]
   */
  abort(reason) {
    const s = this[kState];
    if (s.ended || s.abortError) return;
    s.abortError = abortError(reason);
    // The reader sees the error once the worker's end record arrives (the
    // next wakeup), so that it carries `partial` like every other error:
    // deltas that arrive meanwhile are dropped (#onRecord).
    binding.command(s.id, binding.Command.ABORT);
  }

  /**
   * Relays the stream to a Node ServerResponse (Express, node:http).
   * @param {import('node:http').ServerResponse} res
   * @param {import('../index').RelayOptions} [opts]
   * @returns {Promise<import('../index').StreamSummary>}
   */
  pipe(res, opts) {
    return require('./server/node').pipe(this, res, opts);
  }

  /**
   * Relays the stream over a `ws` WebSocket: one JSON text message per delta,
   * then `{"type":"done"}` or an error message; `{"type":"stop"}` from the
   * client aborts it (lib/server/websocket.js).
   * @param {import('ws').WebSocket} ws
   * @param {{ heartbeatMs?: number, maxBufferedBytes?: number }} [opts]
   * @returns {Promise<import('../index').StreamSummary>}
   */
  pipeWebSocket(ws, opts) {
    return require('./server/websocket').pipeWebSocket(this, ws, opts);
  }

  /**
   * A web Response streaming this answer (Next.js route handlers, any
   * fetch-API server).
   * @param {import('../index').RelayOptions} [opts]
   * @returns {Response}
   */
  toResponse(opts) {
    return require('./server/web').toResponse(this, opts);
  }

  /**
   * Internal: switch to downstream bytes in `format`. `sink` gets
   * head(headObject), data(Buffer), end(error|undefined, summary, tail Buffer|undefined,
   * fallback false, direct 'finished'|'open'|'gone'|undefined).
   * `relay` (optional): `heartbeat` (Buffer|null), `heartbeatMs`,
   * `heartbeatAfterHead` (the worker fills idle time with the heartbeat,
   * output/heartbeat_sink.h), `firstSeq`, `outlivesClient`, `role`,
   * `messageId` (resumable and multi-step relays: binding.consume),
   * `reserved` (true when the caller reserved the stream with kReserve), and
   * `direct`, called once the stream is known
   * to be free: it returns `{ socketFd, preamble }` to have the worker write
   * the head and body to that socket itself (lib/server/node-relay.js), or null.
   * Format, heartbeat and socket travel in one command, so no byte of this
   * format can reach JavaScript first and then race the worker's own writes.
   */
  [kRelay](format, sink, relay = {}) {
    const s = this[kState];
    // `relay.reserved`: the caller holds the reservation (kReserve).
    if (s.reserved && relay.reserved !== true) throw alreadyConsumed();
    this.#checkRelay();
    s.reserved = false;
    s.relay = sink;
    if (s.ended) {
      // Aborted before start, or failed before anyone chose a consumer: the
      // sink still hears how it ended, once, asynchronously like any end.
      queueMicrotask(() => sink.end(s.finalError, s.finalSummary, undefined));
      return;
    }
    const target = relay.direct === undefined ? null : relay.direct();
    this.#decide(format, {
      heartbeat: relay.heartbeat === undefined ? null : relay.heartbeat,
      heartbeatMs: relay.heartbeatMs || 0,
      heartbeatAfterHead: relay.heartbeatAfterHead === true,
      // Resumable and multi-step relays (binding.consume says what they do).
      firstSeq: relay.firstSeq || 0,
      outlivesClient: relay.outlivesClient === true,
      role: relay.role,
      messageId: relay.messageId,
      ...(target === null ? {} : target),
    });
  }

  /**
   * Internal: checks that a relay may take this stream, and keeps `done`
   * from draining it meanwhile (a resumable relay first claims its id, an
   * await, and calls kRelay after). Throws INVALID_ARGUMENT otherwise.
   */
  [kReserve]() {
    const s = this[kState];
    if (s.reserved) throw alreadyConsumed();
    this.#checkRelay();
    s.reserved = true;
  }

  #checkRelay() {
    const s = this[kState];
    if (s.mode === 'discard' && !(s.ended && s.finalError !== undefined)) {
      // Relaying now would send an empty, clean answer: the deltas went into
      // the summary and are gone. A stream that failed before anyone read it
      // still relays its error (below).
      throw new RelayError(
        'INVALID_ARGUMENT',
        'This stream is already consumed: awaiting done drained it into the summary. Call pipe()/toResponse() before ' +
          'awaiting done (the promise they return resolves with the same summary)',
      );
    }
    if ((s.mode !== '' && s.mode !== 'discard') || this.locked) throw alreadyConsumed();
  }

  [kPause]() {
    const s = this[kState];
    if (!s.paused && !s.ended) {
      s.paused = true;
      binding.command(s.id, binding.Command.PAUSE);
    }
  }

  [kResume]() {
    const s = this[kState];
    if (s.paused && !s.ended) {
      s.paused = false;
      binding.command(s.id, binding.Command.RESUME);
    }
  }

  #decide(mode, relay) {
    const s = this[kState];
    if (s.mode !== '' || s.ended) return;
    s.mode = mode;
    binding.consume(s.id, { format: mode, ...relay });
  }

  #onRecord(head, data, end, tail, log) {
    const s = this[kState];
    if (s.relay !== undefined) {
      if (head !== undefined) s.relay.head(JSON.parse(head));
      if (data !== undefined) s.relay.data(data);
      // A resumable relay's log batch (binding.js logBatch), after the bytes.
      if (log !== undefined && s.relay.log !== undefined) s.relay.log(log);
      if (end !== undefined) finish(s, JSON.parse(end), tail);
      return;
    }
    if (data !== undefined && s.mode === 'json' && !s.abortError) {
      // One JSON.parse per batch: the worker wrote "delta,delta,...,".
      const deltas = JSON.parse(`[${data.slice(0, -1)}]`);
      const c = s.controller;
      for (let i = 0; i < deltas.length; i++) c.enqueue(deltas[i]);
      if (!s.paused && c.desiredSize < -MAX_QUEUED_SIZE) {
        s.paused = true;
        binding.command(s.id, binding.Command.PAUSE);
      }
    }
    if (end !== undefined) finish(s, JSON.parse(end), tail);
  }
}

function alreadyConsumed() {
  return new RelayError(
    'INVALID_ARGUMENT',
    "This stream is already being consumed; pipe()/toResponse() (or a relay's forward()) must be its only consumer",
  );
}

/**
 * Starts a streaming request and returns its LLMStream synchronously.
 * @param {import('../index').StreamOptions} options
 * @returns {LLMStream}
 */
function stream(options) {
  return new LLMStream(options);
}

module.exports = { stream, LLMStream };

'use strict';

// pipeWebSocket(): relays an LLMStream over a `ws` (websockets/ws) WebSocket.
//
// The messages are the lines of the `ndjson` format, one per WebSocket text
// message: each delta as its JSON, then `{"type":"done"}`, or on failure
// `{"type":"error","code","message","status"?,"retryAfterMs"?}`. The worker
// encodes them; this file only cuts each batch at its newlines (JSON text
// never holds a raw newline) and sends the pieces, no JSON per token.
//
// From the client: `{"type":"stop"}` aborts the provider request at once and
// answers with the stream's end message (an ABORTED error) right away, so the
// client can send its next request on the same socket and never see the
// stopped stream's tail after it. A closed socket aborts the request too.
//
// Backpressure: `ws.bufferedAmount` counts what the socket has not written
// yet. Above `maxBufferedBytes` the provider transfer pauses; the send
// callback of the last message resumes it once the socket has written it,
// so memory stays bounded by that limit plus about one batch.

const { kRelay } = require('../internal');
const { invalidArgument } = require('../errors');
const { describe, isPlainObject } = require('../validate');
const { RelayWriter, heartbeatOf } = require('./relay-writer');
const { inBandError } = require('./in-band-error');

const CONNECTING = 0;
const OPEN = 1;
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;
const MAX_DELAY_MS = 2 ** 31 - 1;
const KEYS = ['heartbeatMs', 'maxBufferedBytes'];
// A client message longer than this is not a stop message and is not parsed.
const MAX_CONTROL_BYTES = 256;
const NEWLINE = 0x0a;

// The worker sends the ndjson heartbeat (a blank line) when the socket was
// idle for heartbeatMs: it becomes a WebSocket ping frame, which proxies
// count as traffic and browsers answer without involving the page.
const BLANK_LINE = Buffer.from('\n');

/** The relay in flight on each socket: a new one stops the old one first. */
const active = new WeakMap();

function noop() {}

function checkSocket(ws) {
  if (
    ws === null ||
    typeof ws !== 'object' ||
    typeof ws.send !== 'function' ||
    typeof ws.on !== 'function' ||
    typeof ws.ping !== 'function' ||
    typeof ws.readyState !== 'number'
  ) {
    throw invalidArgument(
      `Expected a WebSocket from the ws package for pipeWebSocket(ws) but received ${describe(ws)}`,
    );
  }
  if (ws.readyState === CONNECTING) {
    throw invalidArgument('pipeWebSocket(ws) needs an open WebSocket, but this one is still connecting');
  }
}

function checkOptions(opts) {
  if (opts === undefined || opts === null) opts = {};
  if (!isPlainObject(opts))
    throw invalidArgument(`Expected an object for the pipeWebSocket() options but received ${describe(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!KEYS.includes(key))
      throw invalidArgument(
        `Unknown option ${JSON.stringify(key)} in the pipeWebSocket() options; expected one of ${KEYS.join(', ')}`,
      );
  }
  const heartbeatMs = opts.heartbeatMs === undefined ? DEFAULT_HEARTBEAT_MS : opts.heartbeatMs;
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 0 || heartbeatMs > MAX_DELAY_MS) {
    throw invalidArgument(
      `Expected a non-negative integer number of milliseconds (at most ${MAX_DELAY_MS}) for heartbeatMs but received ${describe(opts.heartbeatMs)}`,
    );
  }
  const maxBufferedBytes = opts.maxBufferedBytes === undefined ? DEFAULT_MAX_BUFFERED_BYTES : opts.maxBufferedBytes;
  if (!Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes < 1) {
    throw invalidArgument(
      `Expected a positive integer for maxBufferedBytes but received ${describe(opts.maxBufferedBytes)}`,
    );
  }
  return { heartbeatMs, maxBufferedBytes, flushMs: 0, spec: { heartbeat: BLANK_LINE } };
}

class WebSocketRelay {
  constructor(stream, ws, options) {
    this.stream = stream;
    this.ws = ws;
    this.maxBufferedBytes = options.maxBufferedBytes;
    this.writer = new RelayWriter(stream, options, (bytes) => this.#write(bytes));
    this.endSent = false; // the end message went out (or the socket is gone)
    this.finished = false; // sink.end ran
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Like pipe(): the client was told already, so ignoring the promise is
    // safe and never an unhandled rejection.
    this.promise.catch(noop);
    this.onMessage = (data, isBinary) => this.#onMessage(data, isBinary);
    this.onClose = () => this.#onClose();
    // The send callback of each batch's last message: the socket wrote it.
    this.onSent = () => {
      if (!this.endSent && this.ws.bufferedAmount <= this.maxBufferedBytes) this.writer.resume();
    };
  }

  begin() {
    const previous = active.get(this.ws);
    if (previous !== undefined) previous.stop('A new stream started on this WebSocket');
    active.set(this.ws, this);
    this.ws.on('message', this.onMessage);
    this.ws.on('close', this.onClose);
    // A socket error is followed by 'close', which aborts the stream; it must
    // not crash the process meanwhile.
    this.ws.on('error', noop);
    // Fallback for a stream that ended before it became a relay; a no-op
    // when the worker's end() ran first.
    this.stream.done.then(
      (summary) => this.end(undefined, summary, undefined),
      (error) => this.end(error, error.partial, undefined),
    );
    if (this.ws.readyState !== OPEN) this.#onClose();
  }

  /** Ends the stream for the client now (its end message goes out) and aborts it. */
  stop(why) {
    if (this.endSent) return;
    this.#sendEnd(`{"type":"error","code":"ABORTED","message":${JSON.stringify(why)}}`);
    this.stream.abort(new Error(why));
  }

  // ---- sink: called by the stream with the worker's records ----

  head() {}

  data(bytes) {
    if (!this.endSent) this.writer.data(bytes);
  }

  end(error, summary, tail) {
    if (this.finished) return;
    this.finished = true;
    if (!this.endSent) {
      let message;
      if (tail !== undefined && tail.length > 1) {
        message = tail.subarray(0, tail[tail.length - 1] === NEWLINE ? tail.length - 1 : tail.length);
      } else {
        message = error === undefined ? '{"type":"done"}' : JSON.stringify({ type: 'error', ...inBandError(error) });
      }
      this.#sendEnd(message);
    }
    this.ws.removeListener('message', this.onMessage);
    this.ws.removeListener('close', this.onClose);
    this.ws.removeListener('error', noop);
    if (error === undefined) this.resolve(summary);
    else this.reject(error);
  }

  // ---- internals ----

  #sendEnd(message) {
    this.endSent = true;
    this.writer.stop();
    if (active.get(this.ws) === this) active.delete(this.ws);
    if (this.ws.readyState === OPEN) this.ws.send(message, { binary: false }, noop);
  }

  /** One batch of ndjson lines: one text message per line. */
  #write(bytes) {
    const { ws } = this;
    if (ws.readyState !== OPEN) return true;
    if (bytes.length === 1 && bytes[0] === NEWLINE) {
      ws.ping(); // a heartbeat (a batch of deltas is never a lone newline)
      return true;
    }
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(NEWLINE, start);
      if (end === -1) end = bytes.length;
      if (end > start) {
        const last = end + 1 >= bytes.length;
        ws.send(bytes.subarray(start, end), { binary: false }, last ? this.onSent : noop);
      }
      start = end + 1;
    }
    return ws.bufferedAmount <= this.maxBufferedBytes;
  }

  #onMessage(data, isBinary) {
    if (isBinary || this.endSent) return;
    const length = typeof data === 'string' ? data.length : data.byteLength;
    if (length > MAX_CONTROL_BYTES) return;
    let message;
    try {
      message = JSON.parse(Array.isArray(data) ? Buffer.concat(data).toString() : data.toString());
    } catch {
      return; // the app's own message, not ours
    }
    if (message !== null && typeof message === 'object' && message.type === 'stop')
      this.stop('The client stopped the stream');
  }

  #onClose() {
    if (this.endSent) return;
    // The client went away: stop paying for tokens nobody will read.
    this.endSent = true;
    this.writer.stop();
    if (active.get(this.ws) === this) active.delete(this.ws);
    this.stream.abort(new Error('The WebSocket closed before the response ended'));
  }
}

/**
 * Relays `stream` over a WebSocket of the `ws` package (LLMStream#pipeWebSocket
 * calls this): each delta as one JSON text message, then `{"type":"done"}` or
 * `{"type":"error","code","message","status"?,"retryAfterMs"?}`.
 *
 * Options (all optional):
 * - `heartbeatMs` (default 15000, 0 = off): a WebSocket ping after this long
 *   without a message, so proxies with idle timeouts keep the connection.
 * - `maxBufferedBytes` (default 262144): above this `ws.bufferedAmount` the
 *   provider transfer pauses until the socket has written its backlog.
 *
 * A client message `{"type":"stop"}` aborts the provider request at once
 * (the end message, an ABORTED error, goes out immediately); so does the
 * socket closing. A second pipeWebSocket() on a socket still relaying a
 * stream stops that one first. Call it synchronously in the 'message'
 * handler that starts the stream, so a stop sent right after the request is
 * not missed. Invalid arguments throw RelayError INVALID_ARGUMENT and leave
 * the socket and the stream untouched.
 *
 * The promise resolves with the summary of `done`, or rejects with the same
 * RelayError (ABORTED after a stop or a close); ignoring it is safe.
 * @param {import('../stream').LLMStream} stream
 * @param {import('ws').WebSocket} ws
 * @param {{ heartbeatMs?: number, maxBufferedBytes?: number }} [opts]
 * @returns {Promise<import('../../index').StreamSummary>}
 */
function pipeWebSocket(stream, ws, opts) {
  const options = checkOptions(opts);
  checkSocket(ws);
  const relay = new WebSocketRelay(stream, ws, options);
  // Throws INVALID_ARGUMENT when the stream is already consumed.
  stream[kRelay]('ndjson', relay, heartbeatOf(options));
  relay.begin();
  return relay.promise;
}

module.exports = { pipeWebSocket };

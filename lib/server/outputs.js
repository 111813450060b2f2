'use strict';

// Where the relays that JavaScript writes itself send their bytes: a resumed
// reader (resumed.js) and a multi-step relay (relay.js). One interface for a
// Node ServerResponse and for a web Response body:
//   head()            the 200 and the streaming headers
//   write(bytes)      false: the downstream is full (await drained())
//   drained()         resolves once it takes bytes again (or the client left)
//   end(tail)         the last bytes and the clean end of the body
//   cut(error)        ends the body so the client sees it incomplete (a
//                     'text' error, which has no in-band form)
//   refuse(error)     answers with the error's status and a JSON body,
//                     instead of the stream (before head() only)
//   onGone(listener)  the client left before the end
//   onDrain(listener) each time it takes bytes again (a step's backpressure)
// Heartbeats: after `heartbeatMs` without a write, the format's idle bytes
// (relay-options.js); a JavaScript timer here, since no worker writes these
// bodies.

const { streamHeaders, errorAnswer } = require('./relay-options');
const { keepAliveHeader, cutShort, sendAnswer } = require('./node-response');
const { toView, answerResponse } = require('./web');

// How many encoded bytes a web body may queue before write() says "full".
const BODY_HIGH_WATER_BYTES = 64 * 1024;

function noop() {}

class Output {
  constructor(options, extraHeaders) {
    this.options = options;
    this.extraHeaders = extraHeaders;
    this.started = false; // head() ran
    this.ended = false; // end(), cut() or refuse() ran
    this.gone = false; // the client left first
    this.goneListeners = [];
    this.drainWaiters = [];
    this.drainListeners = new Set();
    this.heartbeat = options.heartbeatMs > 0 ? options.spec.heartbeat : null;
    this.timer = undefined;
  }

  onGone(listener) {
    if (this.gone) queueMicrotask(listener);
    else this.goneListeners.push(listener);
  }

  /** Calls `listener` each time the downstream takes bytes again; returns the remove function. */
  onDrain(listener) {
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Resolves when the downstream takes bytes again, or the client left. */
  drained() {
    if (this.gone || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  write(bytes) {
    if (this.gone || this.ended || bytes.length === 0) return !this.gone && !this.ended;
    if (this.timer !== undefined) this.timer.refresh();
    return this.send(bytes);
  }

  startHeartbeat() {
    if (this.heartbeat === null) return;
    this.timer = setTimeout(() => this.#beat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  #beat() {
    if (this.gone || this.ended) return;
    this.send(this.heartbeat);
    this.timer.refresh();
  }

  stopHeartbeat() {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  headers() {
    return [...streamHeaders(this.options, { keepAlive: this.keepAlive() }), ...this.extraHeaders];
  }

  wakeDrain() {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
    for (const fn of this.drainListeners) fn();
  }

  left() {
    if (this.gone || this.ended) return;
    this.gone = true;
    this.stopHeartbeat();
    this.wakeDrain();
    const listeners = this.goneListeners;
    this.goneListeners = [];
    for (const fn of listeners) fn();
  }

  finished() {
    this.ended = true;
    this.stopHeartbeat();
    this.wakeDrain();
  }
}

class NodeOutput extends Output {
  /**
   * @param {import('node:http').ServerResponse} res
   * @param {object} options relayOptions()
   * @param {Array<[string, string]>} [extraHeaders] e.g. llm-relay-stream-id
   */
  constructor(res, options, extraHeaders = []) {
    super(options, extraHeaders);
    this.res = res;
    res.on('close', () => this.left());
    res.on('drain', () => this.wakeDrain());
    // Writes race with a disconnect: an 'error' must not crash the process.
    res.on('error', noop);
    if (res.destroyed || res.writableEnded) queueMicrotask(() => this.left());
  }

  keepAlive() {
    return keepAliveHeader(this.res);
  }

  head() {
    if (this.started || this.gone || this.ended) return;
    this.started = true;
    const { res } = this;
    res.removeHeader('Content-Length');
    for (const [name, value] of this.headers()) res.setHeader(name, value);
    res.writeHead(200);
    res.flushHeaders();
    this.startHeartbeat();
  }

  send(bytes) {
    const ok = this.res.write(bytes);
    // compression() buffers inside zlib until flushed (see node.js).
    if (typeof this.res.flush === 'function') this.res.flush();
    return ok;
  }

  end(tail) {
    if (this.gone || this.ended) return;
    this.finished();
    if (tail !== undefined && tail.length > 0) this.res.end(tail);
    else this.res.end();
  }

  cut() {
    if (this.gone || this.ended) return;
    this.finished();
    cutShort(this.res);
  }

  refuse(error) {
    if (this.ended) return;
    this.finished();
    sendAnswer(this.res, errorAnswer(error), [...this.extraHeaders, ...this.options.headers]);
  }
}

class WebOutput extends Output {
  /**
   * @param {object} options relayOptions() (its `signal`: the request's)
   * @param {Array<[string, string]>} [extraHeaders]
   */
  constructor(options, extraHeaders = []) {
    super(options, extraHeaders);
    this.controller = undefined;
    this.response = undefined;
    this.resolveResponse = undefined;
    /** Settles with the Response once head() or refuse() ran. */
    this.responsePromise = new Promise((resolve) => {
      this.resolveResponse = resolve;
    });
    this.body = new ReadableStream(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.wakeDrain(),
        cancel: () => this.left(),
      },
      { highWaterMark: BODY_HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );
    // The request's signal: the client left. The body errors, so whoever
    // still reads it is not left waiting.
    const { signal } = options;
    const onAbort = () => {
      if (this.ended) return;
      this.left();
      try {
        this.controller.error(signal.reason);
      } catch {
        // closed already
      }
    };
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  keepAlive() {
    // A Response cannot know whether HTTP/1.1 or HTTP/2 carries it (web.js).
    return false;
  }

  /** Builds the 200 Response (returned, and resolved into responsePromise). */
  head() {
    if (this.started) return this.response;
    this.started = true;
    const headers = new Headers();
    for (const [name, value] of this.headers()) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.set(name, value);
    }
    this.response = new Response(this.body, { status: 200, headers });
    this.resolveResponse(this.response);
    this.startHeartbeat();
    return this.response;
  }

  send(bytes) {
    try {
      this.controller.enqueue(toView(bytes));
    } catch {
      return true;
    }
    return this.controller.desiredSize > 0;
  }

  end(tail) {
    if (this.gone || this.ended) return;
    this.finished();
    try {
      if (tail !== undefined && tail.length > 0) this.controller.enqueue(toView(tail));
      this.controller.close();
    } catch {
      // cancelled in between
    }
  }

  cut(error) {
    if (this.gone || this.ended) return;
    this.finished();
    try {
      this.controller.error(error);
    } catch {
      // cancelled in between
    }
  }

  refuse(error) {
    if (this.ended) return;
    this.finished();
    this.response = answerResponse(errorAnswer(error), [...this.extraHeaders, ...this.options.headers]);
    this.resolveResponse(this.response);
  }
}

module.exports = { NodeOutput, WebOutput };

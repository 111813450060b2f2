// readWebSocket: reads what the server's `s.pipeWebSocket(ws)` sends over a
// browser WebSocket, as the same Delta objects readStream yields.
//
// The wire: one JSON text message per delta, then `{"type":"done"}`, or
// `{"type":"error","code","message","status"?,"retryAfterMs"?}` — exactly
// the lines of the `ndjson` format. The client sends `{"type":"stop"}` to end
// the answer in flight; the server aborts the provider request and still
// sends the stream's end message, so the next answer on the same socket
// never mixes with the tail of the stopped one.
//
// Several replies may share one socket, one after the other: each reader
// takes the messages up to its stream's end message, in order. A reader that
// was stopped keeps discarding its stream's messages until that end message
// arrives, so the reader after it starts exactly at its own first delta.

import { abortError, errorFromFields, RelayError } from './errors.mjs';

const CONNECTING = 0;
const OPEN = 1;
const STOP_MESSAGE = '{"type":"stop"}';

/** Per socket: the readers in the order their streams will arrive. */
const channels = new WeakMap();

function channelOf(ws) {
  let channel = channels.get(ws);
  if (channel !== undefined) return channel;
  channel = { readers: [] };
  const onMessage = (event) => {
    const reader = channel.readers[0];
    if (reader === undefined) return; // nobody asked: not one of ours
    if (reader.onMessage(event.data)) channel.readers.shift();
  };
  const onClose = (event) => {
    ws.removeEventListener('message', onMessage);
    ws.removeEventListener('close', onClose);
    channels.delete(ws);
    const readers = channel.readers.splice(0);
    for (const reader of readers) reader.onClose(event);
  };
  ws.addEventListener('message', onMessage);
  ws.addEventListener('close', onClose);
  channels.set(ws, channel);
  return channel;
}

class WebSocketReply {
  #ws;
  #queue = []; // deltas not read yet
  #waiting = undefined; // { resolve, reject } of a pending next()
  #state = 'open'; // 'open' | 'stopped' (draining to our end message) | 'ended'
  #error = undefined; // the error next() throws once the queue is empty
  #signal;
  #onAbort;
  #requestPending = false; // `request` waits for the socket to open

  constructor(ws, { request, signal } = {}) {
    this.#ws = ws;
    this.#signal = signal;
    if (signal?.aborted) {
      this.#state = 'ended';
      this.#error = abortError(signal);
      return;
    }
    if (ws.readyState !== OPEN && ws.readyState !== CONNECTING) {
      this.#state = 'ended';
      this.#error = new RelayError('NETWORK', 'The WebSocket is closed');
      return;
    }
    channelOf(ws).readers.push(this);
    if (request !== undefined) {
      const text = typeof request === 'string' ? request : JSON.stringify(request);
      if (ws.readyState === OPEN) {
        ws.send(text);
      } else {
        this.#requestPending = true;
        ws.addEventListener(
          'open',
          () => {
            if (!this.#requestPending) return;
            this.#requestPending = false;
            ws.send(text);
          },
          { once: true },
        );
      }
    }
    if (signal) {
      this.#onAbort = () => this.stop(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /**
   * Ends this answer: tells the server (`{"type":"stop"}`, which aborts the
   * provider request) and makes the iteration throw RelayError ABORTED
   * (name 'AbortError'). Deltas already received are not yielded any more.
   * Does nothing once the answer has ended.
   * @param {unknown} [reason]
   */
  stop(reason) {
    if (this.#state !== 'open') return;
    this.#state = 'stopped';
    this.#queue.length = 0;
    if (this.#requestPending) {
      // The server never heard of this answer: no end message will come.
      this.#requestPending = false;
      this.#state = 'ended';
      const readers = channels.get(this.#ws)?.readers;
      if (readers?.includes(this)) readers.splice(readers.indexOf(this), 1);
    } else if (this.#ws.readyState === OPEN) {
      this.#ws.send(STOP_MESSAGE);
    }
    this.#finish(abortError({ reason: reason === undefined ? new Error('stop() was called') : reason }));
  }

  /** @returns {Promise<IteratorResult<object>>} */
  next() {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift(), done: false });
    if (this.#state !== 'open') {
      if (this.#error !== undefined) {
        const error = this.#error;
        this.#error = undefined; // thrown once; then the iterator is done
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiting !== undefined)
      return Promise.reject(new RelayError('INVALID_ARGUMENT', 'Expected one next() at a time on a WebSocket reply'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Leaving a for-await loop early stops the answer. */
  return() {
    this.stop(new Error('The reader stopped reading'));
    this.#error = undefined;
    this.#queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  // ---- called by the socket's channel ----

  /** One message of this reader's stream; true when it was the end message. */
  onMessage(data) {
    if (typeof data !== 'string') {
      if (this.#state === 'open') {
        this.#state = 'ended';
        this.#finish(new RelayError('PROTOCOL', 'Expected a JSON text message but received a binary one'));
      }
      return false;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      message = undefined;
    }
    if (message === null || typeof message !== 'object' || typeof message.type !== 'string') {
      if (this.#state === 'open') {
        this.#state = 'ended';
        this.#finish(
          new RelayError('PROTOCOL', `Expected a JSON delta but received ${JSON.stringify(data.slice(0, 120))}`),
        );
      }
      return false;
    }
    if (message.type === 'done' || message.type === 'error') {
      if (this.#state === 'open') {
        this.#state = 'ended';
        this.#finish(message.type === 'error' ? errorFromFields(message) : undefined);
      } else {
        this.#state = 'ended';
      }
      return true;
    }
    if (this.#state !== 'open') return false;
    if (this.#waiting !== undefined) {
      const { resolve } = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: message, done: false });
    } else {
      this.#queue.push(message);
    }
    return false;
  }

  /** The socket closed before this reader's end message. */
  onClose(event) {
    if (this.#state !== 'open') {
      this.#state = 'ended';
      return;
    }
    this.#state = 'ended';
    const why = `code ${event.code}${event.reason ? `: ${event.reason}` : ''}`;
    this.#finish(
      event.code === 1000
        ? new RelayError('TRUNCATED', `The WebSocket closed before the end of the answer (${why})`)
        : new RelayError('NETWORK', `The WebSocket connection was lost (${why})`),
    );
  }

  #finish(error) {
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#error = error;
    if (this.#waiting === undefined || this.#queue.length > 0) return;
    const { resolve, reject } = this.#waiting;
    this.#waiting = undefined;
    if (error !== undefined) {
      this.#error = undefined;
      reject(error);
    } else {
      resolve({ value: undefined, done: true });
    }
  }
}

/**
 * Reads one answer that the server relays with `s.pipeWebSocket(ws)`, as an
 * async iterable of the same Delta objects readStream yields.
 *
 * - `ws`: a browser WebSocket (open or still connecting).
 * - `request` (optional): sent first, as JSON (a string as is), once the
 *   socket is open: what the server's message handler starts the stream on.
 * - `signal` (optional): aborting it stops the answer, as stop() does.
 *
 * `reply.stop()` sends `{"type":"stop"}` (the server aborts the provider
 * request at once) and the iteration throws RelayError ABORTED. An in-band
 * error throws a RelayError with the server's code, message, status and
 * retryAfterMs; a socket that closes first throws NETWORK (TRUNCATED for a
 * normal close). Leaving the loop early stops the answer too.
 *
 * @param {WebSocket} ws
 * @param {{ request?: unknown, signal?: AbortSignal }} [options]
 * @returns {AsyncIterableIterator<object> & { stop(reason?: unknown): void }}
 */
export function readWebSocket(ws, options) {
  if (
    ws === null ||
    typeof ws !== 'object' ||
    typeof ws.send !== 'function' ||
    typeof ws.addEventListener !== 'function'
  ) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected a WebSocket for readWebSocket(ws) but received ${ws === null ? 'null' : typeof ws}`,
    );
  }
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected an object for the readWebSocket() options but received ${options === null ? 'null' : typeof options}`,
    );
  }
  return new WebSocketReply(ws, options);
}

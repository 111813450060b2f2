// readStream: reads the relay's default `sse` format in a browser (or
// Node >= 20, Deno, Bun, a worker) and yields the same Delta objects the
// server-side stream does. Plain ES module: no dependencies, no native code,
// only fetch-API globals (ReadableStream reader, TextDecoder, AbortSignal).
//
//   import { readStream } from 'llm-relay/client';
//   for await (const d of readStream(fetch('/api/chat', { method: 'POST', body, signal }), { signal })) {
//     if (d.type === 'text') out.textContent += d.text;
//   }

import { abortError, errorFromFields, RELAY_CODES, RelayError } from './errors.mjs';
import { checkResumeOptions, readResumable } from './resume.mjs';
import { createSseParser } from './sse-parser.mjs';

const ERROR_BODY_LIMIT = 64 * 1024;

/** Reads at most `limit` bytes of a body as text, then cancels the rest. */
async function readLimitedText(response, limit) {
  if (!response.body || typeof response.body.getReader !== 'function') {
    try {
      return (await response.text()).slice(0, limit);
    } catch {
      return '';
    }
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    while (bytes < limit) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
    text += decoder.decode();
  } catch {
    // A broken error body still leaves the status to report.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text;
}

/** Retry-After as delta-seconds or an HTTP-date, in ms. */
function parseRetryAfter(value) {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function httpStatusError(response) {
  const body = await readLimitedText(response, ERROR_BODY_LIMIT);
  let message;
  let code = 'HTTP_STATUS';
  let bodyRetryAfterMs;
  try {
    const json = JSON.parse(body);
    if (json && typeof json === 'object') {
      if (json.error && typeof json.error === 'object' && typeof json.error.message === 'string') {
        message = json.error.message;
        // The relay's own error answer keeps its meaning (a timeout stays
        // TIMEOUT_FIRST_BYTE, not just "HTTP 504").
        if (RELAY_CODES.has(json.error.code)) code = json.error.code;
        if (Number.isFinite(json.error.retryAfterMs) && json.error.retryAfterMs >= 0)
          bodyRetryAfterMs = json.error.retryAfterMs;
      } else if (typeof json.error === 'string') {
        message = json.error;
      } else if (typeof json.message === 'string') {
        message = json.message;
      }
    }
  } catch {
    // Not JSON: fall back to the status text.
  }
  if (!message) message = response.statusText || `HTTP status ${response.status}`;
  const headers = response.headers;
  const retryAfterMs =
    bodyRetryAfterMs ??
    parseRetryAfter(headers && typeof headers.get === 'function' ? headers.get('retry-after') : null);
  return new RelayError(code, message, { status: response.status, retryAfterMs });
}

function serverError(data) {
  let json;
  try {
    json = JSON.parse(data);
  } catch {
    return new RelayError(
      'PROTOCOL',
      `Expected JSON in the error event but received ${JSON.stringify(data.slice(0, 120))}`,
    );
  }
  return errorFromFields(json);
}

/**
 * Awaits the response, or the abort of `signal`, whichever comes first. A
 * response that arrives after the abort gets its body cancelled, so the
 * connection does not stay open for nobody.
 */
function awaitResponse(responseOrPromise, signal) {
  const promise = Promise.resolve(responseOrPromise);
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(abortError(signal));
      promise.then(
        (response) => response?.body?.cancel?.().catch(() => {}),
        () => {},
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (response) => {
        signal.removeEventListener('abort', onAbort);
        resolve(response);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Nobody will read this response: release it, and keep a rejected promise
 * from surfacing as an unhandled rejection.
 */
function release(responseOrPromise) {
  Promise.resolve(responseOrPromise).then(
    (r) => r?.body?.cancel?.().catch(() => {}),
    () => {},
  );
}

/** Marks the format's end of stream in what a decoder returns. */
const END = Symbol('end');

/** In what the sse decoder returns: the event id of the delta before it. */
class EventId {
  constructor(id) {
    this.id = id;
  }
}

/** An error in what a decoder returns: thrown after the deltas before it. */
class Failure {
  constructor(error) {
    this.error = error;
  }
}

function parseDelta(text) {
  try {
    return JSON.parse(text);
  } catch {
    return new Failure(
      new RelayError('PROTOCOL', `Expected a JSON delta but received ${JSON.stringify(text.slice(0, 120))}`),
    );
  }
}

/**
 * Per format: `feed(text)` returns the deltas the decoded text completes,
 * then END once the end marker came, or a Failure (the server's in-band
 * error, malformed bytes): nothing is returned after either.
 */
const DECODERS = {
  sse() {
    const parser = createSseParser();
    let lastId = '';
    return {
      endMarker: 'data: [DONE]',
      feed(text) {
        const out = [];
        for (const { event, data, id } of parser.feed(text)) {
          if (event === 'error') {
            out.push(new Failure(serverError(data)));
            break;
          }
          if (event !== 'message') continue; // named events this format does not define
          if (data === '[DONE]') {
            out.push(END);
            break;
          }
          const delta = parseDelta(data);
          out.push(delta);
          if (delta instanceof Failure) break;
          if (id !== lastId) {
            lastId = id;
            out.push(new EventId(id));
          }
        }
        return out;
      },
    };
  },
  ndjson() {
    let rest = '';
    return {
      endMarker: '{"type":"done"}',
      feed(text) {
        const out = [];
        const lines = (rest + text).split('\n');
        rest = lines.pop();
        for (const raw of lines) {
          const line = raw.trim();
          if (line === '') continue; // the heartbeat
          const delta = parseDelta(line);
          if (delta !== null && delta.type === 'done') {
            out.push(END);
            break;
          }
          if (delta !== null && delta.type === 'error') {
            out.push(new Failure(errorFromFields(delta)));
            break;
          }
          out.push(delta);
          if (delta instanceof Failure) break;
        }
        return out;
      },
    };
  },
  text() {
    // Plain text has no end marker and no error: the body's end is the end,
    // and a cut-short body fails the read (NETWORK).
    return {
      endMarker: undefined,
      feed: (text) => (text === '' ? [] : [{ type: 'text', text }]),
    };
  },
};

/**
 * Yields the Delta objects of a relayed response.
 *
 * - `responseOrPromise`: a fetch `Response` or a promise of one.
 * - `format`: what the server sent, 'sse' (default), 'ndjson' or 'text'
 *   (text becomes `text` deltas; it cannot carry an error or an end marker).
 * - `only: 'text'` yields the text of the `text` deltas as strings and
 *   nothing else (no usage, finish or data deltas to filter out).
 * - A non-2xx response throws RelayError `HTTP_STATUS` (`status`,
 *   `retryAfterMs` from Retry-After, message from the JSON body's
 *   `error.message` / `message`, else the status text). When the body is
 *   the relay's own error answer (`pipe(res, { errorStatus: true })`), its
 *   `error.code` is kept (e.g. TIMEOUT_FIRST_BYTE with status 504).
 * - An in-band error (`event: error`, an ndjson `{"type":"error"}` line)
 *   throws a RelayError with the server's code, message, status and
 *   retryAfterMs.
 * - The stream ending without its end marker (`data: [DONE]`,
 *   `{"type":"done"}`) throws RelayError `TRUNCATED`.
 * - Aborting `signal` cancels the body (and so the fetch) and throws
 *   RelayError `ABORTED` (name 'AbortError', cause = signal.reason).
 * - Leaving the loop early (`break`, `return`, a throw) cancels the body.
 * - `resume: { url }` (a resumable relay, `sse` only): when the body ends
 *   before `[DONE]` or its read fails, reconnects to `url` (a string, or a
 *   function of the stream id from the `llm-relay-stream-id` header) with
 *   `Last-Event-ID`, backing off, and yields every delta exactly once
 *   (resume.mjs has the options and their defaults).
 *
 * @param {Response | PromiseLike<Response>} responseOrPromise
 * @param {{ signal?: AbortSignal, format?: 'sse' | 'ndjson' | 'text', only?: 'text', resume?: object }} [options]
 * @returns {AsyncGenerator<object | string, void, undefined>}
 */
export async function* readStream(responseOrPromise, options = {}) {
  const { signal, only, format = 'sse', resume } = options ?? {};
  if (only !== undefined && only !== 'text') {
    release(responseOrPromise);
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected only to be 'text' or undefined but received ${JSON.stringify(only) ?? typeof only}`,
    );
  }
  if (!Object.hasOwn(DECODERS, format)) {
    release(responseOrPromise);
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected format to be one of 'sse', 'ndjson', 'text' but received ${JSON.stringify(format) ?? typeof format}`,
    );
  }
  const textOnly = only === 'text';
  let resumeOptions;
  if (resume !== undefined) {
    try {
      resumeOptions = checkResumeOptions(resume, format);
    } catch (error) {
      release(responseOrPromise);
      throw error;
    }
  }
  if (signal?.aborted) {
    release(responseOrPromise);
    throw abortError(signal);
  }
  if (resumeOptions !== undefined) {
    yield* readResumable(responseOrPromise, { signal, format, textOnly }, resumeOptions, readBody);
    return;
  }
  yield* readBody(responseOrPromise, { signal, format, textOnly });
}

/**
 * One response's deltas until its end marker. `track` (resuming readers):
 * gets `streamId` (the llm-relay-stream-id header), `lastEventId` and
 * `pending` (deltas yielded since the last event id).
 * @param {Response | PromiseLike<Response>} responseOrPromise
 * @param {{ signal?: AbortSignal, format: string, textOnly: boolean, track?: object }} opts
 */
export async function* readBody(responseOrPromise, { signal, format, textOnly, track }) {
  let response;
  try {
    response = await awaitResponse(responseOrPromise, signal);
  } catch (error) {
    if (error instanceof RelayError) throw error;
    if (signal?.aborted) throw abortError(signal);
    throw new RelayError('NETWORK', `The request failed: ${error?.message ?? error}`, { cause: error });
  }
  if (!response || typeof response.status !== 'number') {
    throw new RelayError('INVALID_ARGUMENT', `Expected a Response or a Promise of one but received ${typeof response}`);
  }
  if (response.status < 200 || response.status > 299) throw await httpStatusError(response);
  if (track !== undefined) {
    const id =
      response.headers && typeof response.headers.get === 'function'
        ? response.headers.get('llm-relay-stream-id')
        : null;
    if (id) track.streamId = id;
  }
  if (!response.body || typeof response.body.getReader !== 'function') {
    throw new RelayError('TRUNCATED', 'The response has no body');
  }

  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const frames = DECODERS[format]();
  let settled = false; // the body was read to its end (or cancelled already)
  const onAbort = () => {
    settled = true;
    // Cancelling the reader resolves a pending read() with done, and makes
    // fetch drop the connection.
    reader.cancel(signal.reason).catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        throw new RelayError('NETWORK', `Reading the stream failed: ${error?.message ?? error}`, { cause: error });
      }
      if (signal?.aborted) throw abortError(signal);
      const text = chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      for (const delta of frames.feed(text)) {
        if (delta === END) return;
        if (delta instanceof Failure) throw delta.error;
        if (delta instanceof EventId) {
          if (track !== undefined) {
            track.lastEventId = delta.id;
            track.pending = 0;
          }
          continue;
        }
        if (track !== undefined) track.pending++;
        if (!textOnly) yield delta;
        else if (delta !== null && delta.type === 'text') yield delta.text;
        else continue;
        // The consumer may have aborted while it held the delta.
        if (signal?.aborted) throw abortError(signal);
      }
      if (chunk.done) {
        settled = true;
        if (frames.endMarker === undefined) return;
        throw new RelayError('TRUNCATED', `The stream ended without ${frames.endMarker}`);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!settled) reader.cancel().catch(() => {});
  }
}

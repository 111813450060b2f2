// readStream(input, { resume }): a reader that comes back. When the body of a
// resumable relay (pipe(res, { resume })) ends before `[DONE]`, or reading it
// fails (a network change, a proxy that cut it, a server restart), it asks
// `resume.url` for the rest with the Last-Event-ID header, as EventSource
// does, and goes on yielding: every delta exactly once, in order.
//
// Options (`resume`):
//   url          string, or (streamId) => string: the GET route that answers
//                with store.resume(id, { lastEventId }).pipe(res); the
//                function gets the `llm-relay-stream-id` header of the first
//                response (cross-origin: the server must list it in
//                Access-Control-Expose-Headers)
//   headers      extra request headers for the reconnects (e.g. auth)
//   retries      reconnect attempts in a row that bring nothing new before
//                giving up (default 5); an attempt that brings events starts
//                the count again
//   delayMs      wait before the first reconnect (default 250), doubling
//   maxDelayMs   up to this (default 5000)
// Gives up with the error that ended the last attempt. Never reconnects after
// an error the server sent (the format's error event: PRODUCER_LOST, ABORTED,
// a provider error...) or an answer that says the stream is not there
// (404 NOT_FOUND, 410 LIMIT, any 4xx); 5xx (503 STORE_UNAVAILABLE) and
// network failures are retried.

import { abortError, RelayError } from './errors.mjs';

const DEFAULTS = Object.freeze({ retries: 5, delayMs: 250, maxDelayMs: 5000 });
const KEYS = ['url', 'headers', 'retries', 'delayMs', 'maxDelayMs'];

function describe(value) {
  return JSON.stringify(value) ?? typeof value;
}

function checkCount(value, name, fallback, min) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected an integer of at least ${min} for resume.${name} but received ${describe(value)}`,
    );
  }
  return value;
}

/** Validates `resume` for readStream; throws RelayError INVALID_ARGUMENT. */
export function checkResumeOptions(resume, format) {
  if (resume === null || typeof resume !== 'object' || Array.isArray(resume)) {
    throw new RelayError('INVALID_ARGUMENT', `Expected { url } for resume but received ${describe(resume)}`);
  }
  for (const key of Object.keys(resume)) {
    if (!KEYS.includes(key))
      throw new RelayError('INVALID_ARGUMENT', `Unknown option resume.${key}; expected one of ${KEYS.join(', ')}`);
  }
  if (format !== 'sse') {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected format 'sse' with resume (only its events carry the ids a reconnect needs) but received ${describe(format)}`,
    );
  }
  const { url, headers } = resume;
  if (typeof url !== 'string' && typeof url !== 'function' && !(typeof URL !== 'undefined' && url instanceof URL)) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected a URL string or a function (streamId) => URL for resume.url but received ${describe(url)}`,
    );
  }
  if (headers !== undefined && (headers === null || typeof headers !== 'object')) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected an object of headers for resume.headers but received ${describe(headers)}`,
    );
  }
  return {
    url,
    headers,
    retries: checkCount(resume.retries, 'retries', DEFAULTS.retries, 0),
    delayMs: checkCount(resume.delayMs, 'delayMs', DEFAULTS.delayMs, 0),
    maxDelayMs: checkCount(resume.maxDelayMs, 'maxDelayMs', DEFAULTS.maxDelayMs, 0),
  };
}

/** Whether a failed attempt may be followed by a reconnect. */
function retriable(error) {
  if (!(error instanceof RelayError)) return false;
  if (error.code === 'TRUNCATED' || error.code === 'NETWORK') return true;
  // The reconnect's own answer: a server or proxy in trouble, or a store that is down.
  return Number.isInteger(error.status) && error.status >= 500 && error.code !== 'PRODUCER_LOST';
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * @param {Response | PromiseLike<Response>} first the response that started the stream
 * @param {{ signal?: AbortSignal, format: string, textOnly: boolean }} opts
 * @param {ReturnType<typeof checkResumeOptions>} resume
 * @param {Function} readBody read-stream.mjs's one-response reader
 */
export async function* readResumable(first, opts, resume, readBody) {
  const track = { streamId: undefined, lastEventId: '', pending: 0 };
  let input = first;
  let failures = 0;
  for (;;) {
    const before = track.lastEventId;
    try {
      yield* readBody(input, { ...opts, track });
      return; // the end marker
    } catch (error) {
      if (opts.signal?.aborted || !retriable(error)) throw error;
      // Deltas without an id since the last one: the server could not know
      // where to start, and they would come twice.
      if (track.pending > 0) throw error;
      failures = track.lastEventId !== before ? 1 : failures + 1;
      if (failures > resume.retries) {
        error.message = `${error.message} (gave up after ${resume.retries} reconnect attempts)`;
        throw error;
      }
      await sleep(Math.min(resume.maxDelayMs, resume.delayMs * 2 ** (failures - 1)), opts.signal);
      input = reconnect(resume, track, opts.signal);
    }
  }
}

function reconnect(resume, track, signal) {
  let url = resume.url;
  if (typeof url === 'function') {
    if (track.streamId === undefined) {
      return Promise.reject(
        new RelayError(
          'INVALID_ARGUMENT',
          'Expected an llm-relay-stream-id response header for resume.url(streamId) but the response had none (is the route resumable? cross-origin: list the header in Access-Control-Expose-Headers)',
        ),
      );
    }
    url = url(track.streamId);
  }
  const headers = { ...resume.headers };
  if (track.lastEventId !== '') headers['Last-Event-ID'] = track.lastEventId;
  return fetch(url, { method: 'GET', headers, signal, cache: 'no-store' });
}

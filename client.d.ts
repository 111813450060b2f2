// Types for `llm-relay/client` (lib/client/): the browser readers of what the
// relay sends. Self-contained: it does not import the server-side types, so a
// browser bundle never pulls them in.

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

/** One normalized delta, as the server-side `LLMStream` yields it. */
export type Delta =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** Fragments of a tool call; concatenate `argumentsDelta` per `index`. */
  | { type: 'tool-call'; index: number; id?: string; name?: string; argumentsDelta: string }
  /** A count the provider did not report is null. `raw` is the provider's own usage object. */
  | { type: 'usage'; inputTokens: number | null; outputTokens: number | null; totalTokens?: number; raw: unknown }
  | { type: 'finish'; reason: FinishReason; raw?: string }
  /** Raw events, only for provider 'sse'. */
  | { type: 'event'; event: string; data: string; id?: string }
  /** An app event of a multi-step relay (`relay.write({ type: 'data', name, data })`). */
  | { type: 'data'; name: string; data: unknown };

export type ErrorCode =
  | 'HTTP_STATUS'
  | 'NETWORK'
  | 'TIMEOUT_CONNECT'
  | 'TIMEOUT_FIRST_BYTE'
  | 'TIMEOUT_IDLE'
  | 'TIMEOUT_TOTAL'
  | 'ABORTED'
  | 'PROVIDER_ERROR'
  | 'PROTOCOL'
  | 'TRUNCATED'
  | 'LIMIT'
  | 'INVALID_ARGUMENT'
  /** Resumable streams: the stream id is unknown or expired. */
  | 'NOT_FOUND'
  /** Resumable streams: the producer stopped (process gone) without ending the stream. */
  | 'PRODUCER_LOST'
  /** Resumable streams: the resume store (e.g. Redis) cannot be reached. */
  | 'STORE_UNAVAILABLE';

/**
 * What `readStream` and `readWebSocket` throw. `code` is an ErrorCode:
 * HTTP_STATUS (a non-2xx response), ABORTED, TRUNCATED (no end marker),
 * PROTOCOL (bytes that are not the format), NETWORK (the read failed), or
 * the code the server sent in-band (e.g. TIMEOUT_IDLE, PROVIDER_ERROR).
 *
 * `instanceof RelayError` also holds for the server's RelayError (and that of
 * any other copy of llm-relay): both carry `Symbol.for('llm-relay.RelayError')`.
 */
export class RelayError extends Error {
  constructor(code: ErrorCode, message: string, fields?: { status?: number; retryAfterMs?: number; cause?: unknown });
  /** 'AbortError' for code ABORTED, so `err.name === 'AbortError'` checks keep working. */
  readonly name: 'RelayError' | 'AbortError';
  readonly code: ErrorCode;
  /**
   * HTTP_STATUS: the status of the response, or (in-band) the provider's
   * status that the server reported after its own 200.
   */
  readonly status?: number;
  /** How long the provider asked to wait before a retry, in ms (Retry-After), when it said. */
  readonly retryAfterMs?: number;
  /** ABORTED: the signal's reason. NETWORK: the underlying error. */
  readonly cause?: unknown;
}

/** What the server relays: `pipe(res, { format })` / `toResponse({ format })`. */
export type ReadFormat = 'sse' | 'ndjson' | 'text';

export interface ReadStreamOptions {
  /** Aborting it cancels the body (and so the fetch) and throws RelayError ABORTED. */
  signal?: AbortSignal;
  /** The format the server sends. Default 'sse'. 'text' yields `text` deltas and has no end marker. */
  format?: ReadFormat;
  /** 'text': yield the text of the `text` deltas as strings, nothing else. */
  only?: undefined;
  /**
   * A resumable route (`pipe(res, { resume })`, `sse` only): when the body ends before `[DONE]`
   * or its read fails, reconnect to `url` with Last-Event-ID and go on, every delta once.
   */
  resume?: ResumeReadOptions;
}

export interface ResumeReadOptions {
  /** The GET route that answers with `store.resume(id, { lastEventId }).pipe(res)`, or a function of the stream id (the `llm-relay-stream-id` header). */
  url: string | URL | ((streamId: string) => string | URL);
  /** Extra headers for the reconnects. */
  headers?: Record<string, string>;
  /** Reconnects in a row that bring nothing new before giving up. Default 5. */
  retries?: number;
  /** Wait before the first reconnect, doubling after each failure. Default 250. */
  delayMs?: number;
  /** The longest wait. Default 5000. */
  maxDelayMs?: number;
}

/**
 * Yields the deltas of a relayed response until its end marker
 * (`data: [DONE]`, `{"type":"done"}`). Leaving the loop early cancels the body.
 *
 * @example
 * for await (const d of readStream(fetch('/api/chat', { method: 'POST', body }), { signal })) {
 *   if (d.type === 'text') output.textContent += d.text;
 * }
 * @example
 * for await (const text of readStream(fetch('/api/chat', { method: 'POST', body }), { only: 'text' })) {
 *   output.textContent += text;
 * }
 */
export function readStream(
  response: Response | PromiseLike<Response>,
  options: Omit<ReadStreamOptions, 'only'> & { only: 'text' },
): AsyncGenerator<string, void, undefined>;
export function readStream(
  response: Response | PromiseLike<Response>,
  options?: ReadStreamOptions,
): AsyncGenerator<Delta, void, undefined>;

export interface ReadWebSocketOptions {
  /** Sent first (as JSON; a string as it is) once the socket is open: what starts the server's stream. */
  request?: unknown;
  /** Aborting it stops the answer, as `stop()` does. */
  signal?: AbortSignal;
}

/** One answer read from a WebSocket: iterate it for its deltas. */
export interface WebSocketReply extends AsyncIterableIterator<Delta> {
  /**
   * Sends `{"type":"stop"}` (the server aborts the provider request) and makes
   * the iteration throw RelayError ABORTED. Nothing once the answer has ended.
   */
  stop(reason?: unknown): void;
}

/**
 * Reads one answer that the server relays with `s.pipeWebSocket(ws)`: one
 * JSON text message per delta, then `{"type":"done"}` or an error message
 * (thrown as a RelayError with code, status and retryAfterMs). Several
 * answers may follow one another on one socket; a stopped answer's late
 * messages never reach the next reader.
 *
 * @example
 * const ws = new WebSocket('/api/chat');
 * let reply = readWebSocket(ws, { request: { messages } });
 * for await (const d of reply) if (d.type === 'text') output.textContent += d.text;
 */
export function readWebSocket(ws: WebSocket, options?: ReadWebSocketOptions): WebSocketReply;

// Types for `llm-relay/client` (lib/client.mjs): the browser reader of the
// relay's default `sse` format. Self-contained: it does not import the
// server-side types, so a browser bundle never pulls them in.

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
  | { type: 'event'; event: string; data: string; id?: string };

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
 * What `readStream` throws. `code` is an ErrorCode: HTTP_STATUS (a non-2xx
 * response), ABORTED, TRUNCATED (no `data: [DONE]`), PROTOCOL (bytes that are
 * not the `sse` format), NETWORK (the read failed), or the code the server
 * sent in an `event: error` (e.g. TIMEOUT_IDLE, PROVIDER_ERROR).
 */
export class RelayError extends Error {
  constructor(code: ErrorCode, message: string, fields?: { status?: number; retryAfterMs?: number; cause?: unknown });
  /** 'AbortError' for code ABORTED, so `err.name === 'AbortError'` checks keep working. */
  readonly name: 'RelayError' | 'AbortError';
  readonly code: ErrorCode;
  /** HTTP_STATUS: the response status. */
  readonly status?: number;
  /** HTTP_STATUS: the Retry-After header, in ms. */
  readonly retryAfterMs?: number;
  /** ABORTED: the signal's reason. NETWORK: the underlying error. */
  readonly cause?: unknown;
}

export interface ReadStreamOptions {
  /** Aborting it cancels the body (and so the fetch) and throws RelayError ABORTED. */
  signal?: AbortSignal;
}

/**
 * Yields the deltas of a response in the relay's `sse` format, until
 * `data: [DONE]`. Leaving the loop early cancels the body.
 *
 * @example
 * for await (const d of readStream(fetch('/api/chat', { method: 'POST', body }), { signal })) {
 *   if (d.type === 'text') output.textContent += d.text;
 * }
 */
export function readStream(
  response: Response | PromiseLike<Response>,
  options?: ReadStreamOptions,
): AsyncGenerator<Delta, void, undefined>;

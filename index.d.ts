// Type definitions for llm-relay.

/// <reference types="node" />

export type ProviderName = 'openai' | 'openai-responses' | 'anthropic' | 'gemini' | 'ollama' | 'sse';

export interface StreamOptions {
  /** Which wire format the provider speaks. */
  provider: ProviderName;
  /** Base URL; the provider's default otherwise (e.g. https://api.openai.com/v1). */
  baseURL?: string;
  /** Full URL of the streaming endpoint; required for provider 'sse'. */
  url?: string;
  /** API key; OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY otherwise. Never appears in errors. */
  apiKey?: string;
  /**
   * Extra request headers (they win over the defaults). Content-Length, Transfer-Encoding, Host,
   * Expect and hop-by-hop headers are refused: curl derives them from the request.
   */
  headers?:
    | Record<string, string | number | Array<string | number>>
    | Map<string, string | number | Array<string | number>>
    | Headers;
  /** The provider's own request body; the stream flag is set for you. */
  body?: Record<string, unknown>;
  /** Gemini's model (else body.model). */
  model?: string;
  signal?: AbortSignal;
  timeouts?: {
    /** TCP + TLS connect. Default 10 000. */
    connectMs?: number;
    /** From the request until the first content delta. Default 60 000. */
    firstByteMs?: number;
    /** Between content deltas; comments, pings and keep-alives do not count. Default 30 000. */
    idleMs?: number;
    /** The whole stream, retries included. Default 600 000. 0 disables this one (the others still apply). */
    totalMs?: number;
  };
  /** Retries before the first delta only. `false` disables. */
  retry?: false | { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  tls?: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized?: boolean };
  /** true (default): HTTP/2 over TLS when the server offers it; 'prior-knowledge': h2c over http://. */
  http2?: true | 'prior-knowledge';
  /** Largest single event accepted (default 8 MiB); larger gives LIMIT. */
  maxEventBytes?: number;
}

// The delta model, finish reasons and error codes are shared with the
// browser client's types (client.d.ts is self-contained for bundles).
import type { Delta, ErrorCode, FinishReason } from './client';

export type { Delta, ErrorCode, FinishReason };

export interface ToolCall {
  index: number;
  id: string | null;
  name: string;
  /** The exact concatenated argument string. */
  arguments: string;
  /** false when `arguments` is not valid JSON (it is never repaired). */
  argumentsValid: boolean;
}

export interface StreamMetrics {
  outcome: 'completed' | 'aborted' | 'timeout' | 'error';
  ttfbMs: number | null;
  ttftMs: number | null;
  durationMs: number;
  /** Content deltas (text, reasoning, tool-call fragments). */
  deltas: number;
  bytes: number;
  retries: number;
  gapP50Ms: number;
  gapP99Ms: number;
  gapMaxMs: number;
  /**
   * Content deltas per second from the first to the last content delta. A
   * delta is a provider fragment, not a token (one fragment may hold several
   * tokens).
   */
  deltasPerSecond: number | null;
  /**
   * Output tokens per second over the same span, from the output token count
   * the provider reported; null without usage or with fewer than two deltas.
   */
  outputTokensPerSecond: number | null;
}

export interface StreamSummary {
  text: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason | null;
  rawFinishReason: string | null;
  /** As the provider reported it; `totalTokens` is null when it reported no total (Anthropic), as in the usage delta. */
  usage: { inputTokens: number | null; outputTokens: number | null; totalTokens: number | null; raw: unknown } | null;
  metrics: StreamMetrics;
}

export type Format = 'sse' | 'openai' | 'ndjson' | 'text' | 'ui-message';

export interface RelayOptions {
  format?: Format;
  /** `: ping` while idle, in ms. Default 15 000; 0 disables. */
  heartbeatMs?: number;
  /** Coalesce writes for this long (ms). Default 0. */
  flushMs?: number;
  /** pipe() only: hold the headers until the provider answers, so an early error becomes a real HTTP status. */
  errorStatus?: boolean;
  /** Extra response headers; the framing and hop-by-hop ones (Content-Length, Transfer-Encoding, Content-Encoding, Connection, ...) are refused. */
  headers?:
    | Record<string, string | number | Array<string | number>>
    | Map<string, string | number | Array<string | number>>
    | Headers;
  /**
   * pipe() only: let the worker thread write the bytes straight to a plain
   * HTTP/1.1 socket (default true; TLS, HTTP/2 and wrapped responses such as
   * compression() always use Node's writes). LLM_RELAY_DIRECT=0 turns it off.
   */
  direct?: boolean;
  /** toResponse() only: the request's signal; its abort aborts upstream (unless the relay is resumable). */
  signal?: AbortSignal;
  /**
   * Makes the relay resumable: every `sse` event carries an increasing id, the response names the
   * stream in `llm-relay-stream-id`, every delta is logged in `store`, and a client that leaves no
   * longer aborts the upstream (store.stop(id), s.abort(), a timeout or `abandonAfterMs` do).
   * A live id is refused: 409 (pipe() rejects with INVALID_ARGUMENT, status 409).
   * toResponse() then returns a Promise<Response>.
   */
  resume?: ResumeOptions;
}

export interface ResumeOptions {
  store: ResumeStore;
  /** The stream id (a chat id, a message id): 1 to 256 characters, no control characters or braces. */
  id: string;
  /**
   * Abort the stream once nobody has read it for this long (ms): neither its own client nor a
   * reader of `store.resume(id)` on any instance (`store.hasReaders`). Default: never.
   */
  abandonAfterMs?: number;
}

/** The options of a resumed stream's pipe() / toResponse(). */
export interface ResumedRelayOptions {
  format?: Format;
  /** The format's idle bytes while a followed live stream is quiet, in ms. Default 15 000; 0 disables. */
  heartbeatMs?: number;
  headers?: RelayOptions['headers'];
  /** toResponse() only: the request's signal; its abort stops the read. */
  signal?: AbortSignal;
}

/**
 * `store.resume(id, { lastEventId })`: the deltas after `lastEventId` (all without it), then the
 * live rest, each exactly once, then the end. Consume it one way only.
 */
export interface ResumedStream extends ReadableStream<Delta> {
  readonly id: string;
  readonly lastEventId: number;
  /**
   * Before the stream: 404 NOT_FOUND (unknown or expired id), 410 LIMIT, 503 STORE_UNAVAILABLE,
   * with a JSON body; after it, the format's error event (e.g. PRODUCER_LOST). Resolves with the
   * end record's summary.
   */
  pipe(res: import('node:http').ServerResponse, opts?: ResumedRelayOptions): Promise<unknown>;
  /** A Promise: the store's first answer decides the status. */
  toResponse(opts?: ResumedRelayOptions): Promise<Response>;
  [Symbol.asyncIterator](): AsyncIterableIterator<Delta>;
}

export interface ResumeReadOptions {
  /** The Last-Event-ID header (a decimal event id); missing or empty replays everything. */
  lastEventId?: string | number | null;
  signal?: AbortSignal;
}

export interface WebSocketRelayOptions {
  /** A WebSocket ping after this long without a message, in ms. Default 15 000; 0 disables. */
  heartbeatMs?: number;
  /** Above this `ws.bufferedAmount` the provider transfer pauses until the socket drains. Default 262 144. */
  maxBufferedBytes?: number;
}

/** The `ws` package's WebSocket, as far as pipeWebSocket uses it (no dependency on its types). */
export interface WsWebSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array, options: { binary?: boolean }, cb?: (err?: Error) => void): void;
  ping(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

export class RelayError extends Error {
  constructor(code: ErrorCode, message: string, fields?: Partial<RelayError> & { cause?: unknown });
  readonly name: 'RelayError' | 'AbortError';
  readonly code: ErrorCode;
  readonly status?: number;
  readonly provider?: ProviderName;
  readonly retryAfterMs?: number;
  /** The provider's error type (e.g. 'overloaded_error'). */
  readonly type?: string;
  /** The summary so far, after an error or an abort. */
  partial?: StreamSummary;
  /** HTTP_STATUS: the provider's error body (at most 64 KiB). */
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export class LLMStream extends ReadableStream<Delta> {
  constructor(options: StreamOptions);
  /** Text deltas only. Consumes this stream. */
  readonly textStream: ReadableStream<string>;
  /** The assembled answer; rejects with the RelayError (with `partial`). */
  readonly done: Promise<StreamSummary>;
  abort(reason?: unknown): void;
  pipe(res: import('node:http').ServerResponse, opts?: RelayOptions): Promise<StreamSummary>;
  /** With `resume`, a Promise of the Response: the claim decides between 200 and 409/503. */
  toResponse(opts: RelayOptions & { resume: ResumeOptions }): Promise<Response>;
  toResponse(opts?: RelayOptions & { resume?: undefined }): Response;
  /**
   * Relays over a `ws` WebSocket: one JSON text message per delta, then
   * `{"type":"done"}` or `{"type":"error",code,message,status?,retryAfterMs?}`.
   * The client's `{"type":"stop"}` (or the socket closing) aborts the provider request.
   */
  pipeWebSocket(ws: WsWebSocket, opts?: WebSocketRelayOptions): Promise<StreamSummary>;
  [Symbol.asyncIterator](): AsyncIterableIterator<Delta>;
}

export function stream(options: StreamOptions): LLMStream;

// ---- Resume stores (docs/resume-store.md) ----

/**
 * One logged batch: `count` deltas with event ids (seqs) `first` ..
 * `first + count - 1`, as comma-terminated Delta JSON (`{...},{...},`).
 * Batches of a stream are contiguous: each starts where the last one ended.
 */
export interface ResumeBatch {
  /** The sequence number of the batch's first delta. */
  first: number;
  /** How many deltas the batch holds. */
  count: number;
  /**
   * The deltas as comma-terminated Delta JSON. From the relays, bytes that are a view of one
   * Buffer shared by every stream's batch of that wakeup: a store that keeps them beyond the
   * append() call copies them.
   */
  data: string | Uint8Array;
}

/** How a logged stream ended. */
export type ResumeTerminal =
  | { ok: true; summary?: unknown }
  | { ok: false; error: { code: string; message: string; status?: number; retryAfterMs?: number }; summary?: unknown };

/** What `read()` yields: one `meta`, the batches after `after` (the first one cut at `after`), one `end`. */
export type ResumeEntry =
  | { type: 'meta'; meta: Record<string, unknown> }
  | { type: 'batch'; first: number; count: number; data: string }
  | ({ type: 'end' } & ResumeTerminal);

/** Where a resumable stream's deltas are logged; implement it to add a store. */
export interface ResumeStore {
  /**
   * Starts stream `id` with this instance as its producer. While another producer holds the id,
   * rejects with RelayError INVALID_ARGUMENT (status 409); a finished or lost stream is replaced.
   */
  claim(id: string, meta?: Record<string, unknown>, options?: { ttlSeconds?: number }): Promise<void>;
  /** Synchronous and cheap; never throws because of the store (what cannot be logged is dropped and counted). */
  append(id: string, batch: ResumeBatch): void;
  /** Writes the end record and releases the claim; never rejects because of the store. */
  end(id: string, terminal: ResumeTerminal): Promise<void>;
  /**
   * The entries after event `after` (default 0: all), following a live stream until its end.
   * next() rejects with NOT_FOUND, PRODUCER_LOST, STORE_UNAVAILABLE or LIMIT.
   */
  read(id: string, options?: { after?: number; signal?: AbortSignal }): AsyncIterableIterator<ResumeEntry>;
  /** Asks the producer of `id` (on any instance) to stop; true if a live producer held it. */
  stop(id: string): Promise<boolean>;
  /** Producer side: `listener` runs once when `id` is stopped. Returns the remove function. */
  onStop(id: string, listener: () => void): () => void;
  close(): Promise<void>;
  /** Optional: whether a read() of `id` is open on any instance (what `abandonAfterMs` counts). */
  hasReaders?(id: string): Promise<boolean>;
  /** The reader for a client that comes back (the built-in stores have it; see `resumeStream`). */
  resume?(id: string, options?: ResumeReadOptions): ResumedStream;
}

export interface MemoryStoreOptions {
  /** Bound on the logged data, in string characters. Default 64 MiB. */
  maxBytes?: number;
  /** How long a finished stream stays. Default 3600. */
  ttlSeconds?: number;
}

export interface MemoryStore extends ResumeStore {
  hasReaders(id: string): Promise<boolean>;
  resume(id: string, options?: ResumeReadOptions): ResumedStream;
  stats(): {
    streams: number;
    liveStreams: number;
    bytes: number;
    maxBytes: number;
    droppedAppends: number;
    evictedStreams: number;
    trimmedBatches: number;
  };
}

export interface RedisStoreOptions {
  /** redis://[[user]:password@]host[:port][/db] or rediss:// (TLS); the store opens its own connections. */
  url?: string;
  /** A connected node-redis (v4+) or ioredis client; duplicated for blocking reads and pub/sub, never closed by the store. */
  client?: object;
  /** tls.connect() options for rediss:// (e.g. `{ ca }`). */
  tls?: import('node:tls').ConnectionOptions;
  /** Default 'llm-relay:'. No braces. */
  keyPrefix?: string;
  /** How long a stream stays after its end. Default 3600. */
  ttlSeconds?: number;
  /** Log entries kept per stream (XADD MAXLEN ~). Default 100 000. */
  maxBatches?: number;
  /** url mode. Default 5000. */
  connectTimeoutMs?: number;
  /** url mode: a connection whose replies stop for this long is dropped and reconnected. Default 5000. */
  commandTimeoutMs?: number;
}

export interface RedisStore extends ResumeStore {
  hasReaders(id: string): Promise<boolean>;
  resume(id: string, options?: ResumeReadOptions): ResumedStream;
  /** The Redis keys of stream `id` (`log` needs the claim's run token). */
  keys(id: string, run?: string): { meta: string; owner: string; readers: string; log: string | undefined };
  stats(): { available: boolean; liveStreams: number; pendingEnds: number; droppedAppends: number };
}

/** The in-process resume store: the default, bounded, no setup. */
export function createMemoryStore(options?: MemoryStoreOptions): MemoryStore;
/** The resume store on Redis Streams, shared by every instance of an app (Redis 6.2+). */
export function createRedisStore(options: RedisStoreOptions): RedisStore;
/** `store.resume(id, options)` for any store: give a store of your own its `resume` method with it. */
export function resumeStream(store: ResumeStore, id: string, options?: ResumeReadOptions): ResumedStream;

// ---- Several steps in one response ----

export interface CreateRelayOptions {
  format?: Format;
  /** The format's idle bytes while nothing is written, in ms. Default 15 000; 0 disables. */
  heartbeatMs?: number;
  headers?: RelayOptions['headers'];
  /** Makes the whole multi-step response resumable (see RelayOptions.resume). */
  resume?: ResumeOptions;
}

export interface Relay {
  /** The message id every step carries (ui-message `messageId`, openai chunk `id`). */
  readonly messageId: string;
  /** An app event: `data-<name>` in ui-message; openai and text cannot carry it. */
  write(delta: { type: 'data'; name: string; data: unknown }): void;
  /** Relays the stream as the next step; resolves with its summary, rejects with its error (which ends the relay). */
  forward(stream: LLMStream): Promise<StreamSummary>;
  /** One [DONE] for the whole response. */
  end(): void;
  /** Settles when the relay ended: `{ steps }` after end(), the RelayError that ended it otherwise. */
  readonly done: Promise<{ steps: StreamSummary[] }>;
}

export interface WebRelay<R = Response> extends Relay {
  /** For web handlers: return it. With `resume`, a Promise (the claim decides 200 or 409/503). */
  readonly response: R;
}

/** A multi-step relay writing to a Node ServerResponse (Express, node:http). */
export function createRelay(res: import('node:http').ServerResponse, options?: CreateRelayOptions): Relay;
/** A multi-step relay for web handlers (`relay.response`). */
export function createRelay(
  options: CreateRelayOptions & { signal?: AbortSignal; resume: ResumeOptions },
): WebRelay<Promise<Response>>;
export function createRelay(
  options?: CreateRelayOptions & { signal?: AbortSignal; resume?: undefined },
): WebRelay<Response>;

export const providers: ProviderName[];

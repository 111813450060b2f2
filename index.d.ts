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
  headers?: Record<string, string | number | Array<string | number>> | Map<string, string | number | Array<string | number>> | Headers;
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
import type { Delta, FinishReason, ErrorCode } from './client';
export type { Delta, FinishReason, ErrorCode };

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
  headers?: Record<string, string | number | Array<string | number>> | Map<string, string | number | Array<string | number>> | Headers;
  /**
   * pipe() only: let the worker thread write the bytes straight to a plain
   * HTTP/1.1 socket (default true; TLS, HTTP/2 and wrapped responses such as
   * compression() always use Node's writes). LLM_RELAY_DIRECT=0 turns it off.
   */
  direct?: boolean;
  /** toResponse() only: the request's signal; its abort aborts upstream. */
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
  toResponse(opts?: RelayOptions): Response;
  /**
   * Relays over a `ws` WebSocket: one JSON text message per delta, then
   * `{"type":"done"}` or `{"type":"error",code,message,status?,retryAfterMs?}`.
   * The client's `{"type":"stop"}` (or the socket closing) aborts the provider request.
   */
  pipeWebSocket(ws: WsWebSocket, opts?: WebSocketRelayOptions): Promise<StreamSummary>;
  [Symbol.asyncIterator](): AsyncIterableIterator<Delta>;
}

export function stream(options: StreamOptions): LLMStream;
export const providers: ProviderName[];

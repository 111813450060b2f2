// Types for `llm-relay/react` (lib/react.mjs). Self-contained like client.d.ts: no dependency on
// React's own types.

import type { FinishReason, ReadFormat, RelayError, ResumeReadOptions } from './client';

export type StreamStatus = 'idle' | 'streaming' | 'done' | 'error' | 'stopped';

export interface StreamToolCall {
  index: number;
  id: string | null;
  name: string;
  /** The concatenated argument fragments (JSON text once complete). */
  arguments: string;
}

export interface StreamDataEvent {
  name: string;
  data: unknown;
}

export interface StreamFinish {
  text: string;
  reasoning: string;
  toolCalls: StreamToolCall[];
  data: StreamDataEvent[];
  finishReason: FinishReason | null;
  usage: { inputTokens: number | null; outputTokens: number | null; totalTokens: number | null } | null;
}

export interface UseStreamOptions {
  /** The route to POST to (pipe(res) / toResponse() on the server). */
  api: string;
  /** Sent when send() gets no body: an object as JSON; a string, FormData, Blob or URLSearchParams as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** What the route sends. Default 'sse'. */
  format?: ReadFormat;
  /** Commit at most every this many ms. Default: once per animation frame. */
  batchMs?: number;
  /** A resumable route: readStream's `resume` option, passed through (a dropped connection is resumed, each delta once). */
  resume?: ResumeReadOptions;
  /** Once per completed answer (not after stop() or an error). */
  onFinish?: (result: StreamFinish) => void;
}

export interface UseStreamResult {
  text: string;
  reasoning: string;
  toolCalls: StreamToolCall[];
  /** The `{ name, data }` of each `data` delta (app events of a multi-step relay), in order. */
  data: StreamDataEvent[];
  status: StreamStatus;
  /** The RelayError of a failed answer, with `code`, `status` and `retryAfterMs` as the server sent them. */
  error: RelayError | undefined;
  /** Aborts the answer in flight, if any, and starts a new one. */
  send(body?: unknown): void;
  /** Aborts the answer in flight; what arrived stays and status becomes 'stopped'. */
  stop(): void;
}

/**
 * Streams an answer from `api` into React state, rendering at most once per animation frame
 * (or per `batchMs`). Unmounting aborts the answer in flight.
 *
 * @example
 * 'use client';
 * const { text, status, error, send, stop } = useStream({ api: '/api/chat' });
 */
export function useStream(options: UseStreamOptions): UseStreamResult;

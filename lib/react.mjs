'use client';

// llm-relay/react: useStream, a React hook over readStream for a route that
// relays an answer with pipe(res) or toResponse(). Client-only ('use client'
// above: a Next.js App Router page can import it from a client component);
// plain ESM with React as its only import.
//
// Rendering: deltas arrive far faster than a screen refreshes (a fast model
// sends hundreds per second, and one network read can hold dozens). The hook
// keeps the answer in refs and commits it to state at most once per
// animation frame (or once per `batchMs`), so React renders once per frame
// whatever the token rate. Every change of state goes through that one
// flush, including status changes, so two renders never share a frame. The
// text is only ever appended in arrival order; the last flush holds all of it.

import { useCallback, useEffect, useRef, useState } from 'react';
import { RelayError } from './client/errors.mjs';
import { readStream } from './client/read-stream.mjs';

const INITIAL = Object.freeze({
  text: '',
  reasoning: '',
  toolCalls: Object.freeze([]),
  data: Object.freeze([]),
  status: 'idle',
  error: undefined,
});

/** A fresh answer buffer: mutated per delta, copied into state per flush. */
function emptyAnswer() {
  return {
    text: '',
    reasoning: '',
    toolCalls: [],
    data: [],
    finishReason: null,
    usage: null,
    status: 'streaming',
    error: undefined,
  };
}

function applyDelta(answer, delta) {
  switch (delta.type) {
    case 'text':
      answer.text += delta.text;
      break;
    case 'reasoning':
      answer.reasoning += delta.text;
      break;
    case 'tool-call': {
      let call = answer.toolCalls[delta.index];
      if (call === undefined) {
        call = { index: delta.index, id: null, name: '', arguments: '' };
        answer.toolCalls[delta.index] = call;
      }
      if (delta.id) call.id = delta.id;
      if (delta.name) call.name = delta.name;
      call.arguments += delta.argumentsDelta;
      break;
    }
    case 'data':
      answer.data.push({ name: delta.name, data: delta.data });
      break;
    case 'finish':
      answer.finishReason = delta.reason;
      break;
    case 'usage':
      answer.usage = {
        inputTokens: delta.inputTokens,
        outputTokens: delta.outputTokens,
        totalTokens: delta.totalTokens ?? null,
      };
      break;
    default:
      break; // raw `event` deltas and future types: not part of the answer
  }
}

/** The state React sees: copies, so a committed snapshot never changes. */
function snapshot(answer) {
  return {
    text: answer.text,
    reasoning: answer.reasoning,
    toolCalls: answer.toolCalls.filter(Boolean).map((call) => ({ ...call })),
    data: answer.data.slice(),
    status: answer.status,
    error: answer.error,
  };
}

function requestBody(body) {
  if (body === undefined) return { body: undefined, json: false };
  if (typeof body === 'string') return { body, json: false };
  if (typeof FormData !== 'undefined' && body instanceof FormData) return { body, json: false };
  if (typeof Blob !== 'undefined' && body instanceof Blob) return { body, json: false };
  if (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams) return { body, json: false };
  return { body: JSON.stringify(body), json: true };
}

/**
 * Streams an answer from `api` into React state.
 *
 * Options (read at each send(), so they may change between renders):
 * - `api` (required): the URL of the route, POSTed to.
 * - `body`: sent when send() is called without one; an object is sent as
 *   JSON, a string, FormData, Blob or URLSearchParams as it is.
 * - `headers`: extra request headers.
 * - `format`: what the route sends, 'sse' (default), 'ndjson' or 'text'.
 * - `batchMs`: commit at most every this many ms instead of once per
 *   animation frame.
 * - `resume`: `{ url, ... }` for a resumable route (pipe(res, { resume })):
 *   readStream's option, passed through: a dropped connection is resumed
 *   from the last event id, each delta once.
 * - `onFinish({ text, reasoning, toolCalls, data, finishReason, usage })`:
 *   called once when an answer completes (not after stop() or an error).
 *
 * Returns `{ text, reasoning, toolCalls, data, status, error, send, stop }`:
 * - `toolCalls`: `[{ index, id, name, arguments }]`, arguments concatenated.
 * - `data`: the `{ name, data }` of every `data` delta (app events of a
 *   multi-step relay), in order.
 * - `status`: 'idle' | 'streaming' | 'done' | 'error' | 'stopped'.
 * - `error`: the RelayError of a failed answer (`code`, `status`,
 *   `retryAfterMs` as the server sent them), else undefined.
 * - `send(body?)`: aborts the answer in flight, if any, and starts a new one.
 * - `stop()`: aborts the answer in flight (the server aborts the provider
 *   request); what arrived stays, status becomes 'stopped'.
 * Unmounting aborts the answer in flight.
 *
 * @param {{ api: string, body?: unknown, headers?: Record<string, string>, format?: 'sse' | 'ndjson' | 'text', batchMs?: number, resume?: object, onFinish?: (result: object) => void }} options
 */
export function useStream(options) {
  const [state, setState] = useState(INITIAL);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  // The request in flight: its AbortController, its answer buffer, and why
  // it was aborted ('stop' | 'replaced' | 'unmount').
  const current = useRef(undefined);
  const timer = useRef(undefined); // { cancel } of the scheduled flush
  const mounted = useRef(true);

  const flushNow = useCallback((answer) => {
    timer.current = undefined;
    if (mounted.current) setState(snapshot(answer));
  }, []);

  // One commit per frame (or per batchMs) at most: later deltas of the same
  // frame join the flush that is already scheduled.
  const scheduleFlush = useCallback(
    (answer) => {
      if (timer.current !== undefined) return;
      const batchMs = optionsRef.current?.batchMs;
      if (batchMs === undefined && typeof requestAnimationFrame === 'function') {
        const id = requestAnimationFrame(() => flushNow(answer));
        timer.current = { cancel: () => cancelAnimationFrame(id) };
      } else {
        const id = setTimeout(() => flushNow(answer), batchMs === undefined ? 16 : batchMs);
        timer.current = { cancel: () => clearTimeout(id) };
      }
    },
    [flushNow],
  );

  const abortCurrent = useCallback((why) => {
    const request = current.current;
    if (request === undefined) return undefined;
    current.current = undefined;
    request.why = why;
    request.controller.abort(
      new RelayError(
        'ABORTED',
        why === 'stop'
          ? 'stop() was called'
          : why === 'replaced'
            ? 'send() started a new answer'
            : 'The component unmounted',
      ),
    );
    return request;
  }, []);

  const stop = useCallback(() => {
    const request = abortCurrent('stop');
    if (request === undefined) return;
    request.answer.status = 'stopped';
    if (timer.current !== undefined) timer.current.cancel();
    timer.current = undefined;
    scheduleFlush(request.answer);
  }, [abortCurrent, scheduleFlush]);

  const send = useCallback(
    (body) => {
      if (!mounted.current) return;
      const opts = optionsRef.current ?? {};
      if (typeof opts.api !== 'string' || opts.api === '') {
        throw new RelayError(
          'INVALID_ARGUMENT',
          `Expected a URL string for useStream's api but received ${typeof opts.api}`,
        );
      }
      abortCurrent('replaced');
      if (timer.current !== undefined) timer.current.cancel();
      timer.current = undefined;
      const answer = emptyAnswer();
      const request = { controller: new AbortController(), answer, why: undefined };
      current.current = request;
      scheduleFlush(answer);

      const payload = requestBody(body === undefined ? opts.body : body);
      const headers = { ...(payload.json ? { 'content-type': 'application/json' } : {}), ...opts.headers };
      const { signal } = request.controller;
      const run = async () => {
        try {
          const response = fetch(opts.api, { method: 'POST', headers, body: payload.body, signal });
          for await (const delta of readStream(response, { signal, format: opts.format, resume: opts.resume })) {
            if (request.why !== undefined) break; // stopped or replaced meanwhile
            applyDelta(answer, delta);
            scheduleFlush(answer);
          }
          if (current.current !== request) return;
          current.current = undefined;
          answer.status = 'done';
          scheduleFlush(answer);
          const onFinish = optionsRef.current?.onFinish;
          if (typeof onFinish === 'function') {
            const { text, reasoning, data, finishReason, usage } = answer;
            onFinish({
              text,
              reasoning,
              toolCalls: answer.toolCalls.filter(Boolean).map((c) => ({ ...c })),
              data: data.slice(),
              finishReason,
              usage,
            });
          }
        } catch (error) {
          // Aborted on purpose: stop() already set 'stopped'; a newer send()
          // or the unmount owns the state now.
          if (request.why !== undefined || current.current !== request) return;
          current.current = undefined;
          answer.status = 'error';
          answer.error =
            error instanceof RelayError
              ? error
              : new RelayError('NETWORK', String(error?.message ?? error), { cause: error });
          scheduleFlush(answer);
        }
      };
      run();
    },
    [abortCurrent, scheduleFlush],
  );

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      abortCurrent('unmount');
      if (timer.current !== undefined) timer.current.cancel();
      timer.current = undefined;
    };
  }, [abortCurrent]);

  return { ...state, send, stop };
}

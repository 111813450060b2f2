// Compiled with `tsc --noEmit` by test/unit/types.test.js: the public API as
// a TypeScript user writes it.

import type { ServerResponse } from 'node:http';
import { type Delta, type LLMStream, RelayError, type StreamSummary, stream } from 'llm-relay';
import { RelayError as ClientRelayError, readStream, readWebSocket } from 'llm-relay/client';
import { startMockProvider } from 'llm-relay/testing';

export async function example(res: ServerResponse, signal: AbortSignal): Promise<string> {
  const mock = await startMockProvider({ provider: 'openai', script: { tokens: 'hi' } });
  const s: LLMStream = stream({
    provider: 'openai',
    baseURL: mock.baseURL('openai'),
    apiKey: 'k',
    body: { model: 'gpt-4o-mini', messages: [] },
    signal,
    timeouts: { idleMs: 10_000 },
    retry: { attempts: 1 },
    headers: new Map([['x-trace', 'a']]),
  });
  let text = '';
  for await (const d of s) {
    const delta: Delta = d;
    if (delta.type === 'text') text += delta.text;
    if (delta.type === 'tool-call') text += delta.argumentsDelta;
  }
  const done: StreamSummary = await s.done;
  done.toolCalls.forEach((c) => c.argumentsValid);
  const summary = await stream({ provider: 'anthropic', apiKey: 'k', body: {} }).pipe(res, {
    format: 'ui-message',
    heartbeatMs: 5000,
  });
  const response: Response = stream({ provider: 'gemini', model: 'gemini-2.5-flash', apiKey: 'k' }).toResponse({
    format: 'openai',
    headers: { 'x-trace': 'b' },
  });
  for await (const d of readStream(fetch('http://127.0.0.1/api/chat'), { signal })) {
    if (d.type === 'finish') text += d.reason;
    if (d.type === 'data') text += d.name;
  }
  for await (const piece of readStream(fetch('http://127.0.0.1/api/chat'), { only: 'text', format: 'ndjson' })) {
    const plain: string = piece;
    text += plain;
  }
  const rate = done.metrics.outputTokensPerSecond ?? done.metrics.deltasPerSecond;
  const reply = readWebSocket(new WebSocket('ws://127.0.0.1/ws'), { request: { messages: [] }, signal });
  try {
    for await (const d of reply) if (d.type === 'text') text += d.text;
  } catch (err) {
    if (err instanceof ClientRelayError && err.retryAfterMs !== undefined) text += String(err.status);
  }
  reply.stop();
  text += String(rate);
  try {
    s.abort(new Error('bye'));
  } catch (err) {
    if (err instanceof RelayError && err.code === 'ABORTED') text += err.partial?.text ?? '';
  }
  await mock.close();
  return text + summary.text + String(response.status);
}

// What pipeWebSocket accepts: the ws package's socket, described structurally.
import type { WsWebSocket } from 'llm-relay';
export function relayOver(ws: WsWebSocket): Promise<StreamSummary> {
  return stream({ provider: 'openai', apiKey: 'k', body: {} }).pipeWebSocket(ws, {
    heartbeatMs: 0,
    maxBufferedBytes: 1 << 20,
  });
}

// The React hook, as a client component calls it (its types need no @types/react).
import { type UseStreamResult, useStream } from 'llm-relay/react';
export function useChat(): string {
  const chat: UseStreamResult = useStream({ api: '/api/chat', batchMs: 50, onFinish: (r) => void r.finishReason });
  chat.send({ messages: [] });
  if (chat.status === 'error' && chat.error?.code === 'HTTP_STATUS') return `retry in ${chat.error.retryAfterMs}`;
  return chat.text + chat.data.map((d) => d.name).join('') + chat.toolCalls.map((c) => c.arguments).join('');
}

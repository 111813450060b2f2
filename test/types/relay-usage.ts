// Compiled with `tsc --noEmit` by test/unit/types.test.js: resumable relays, resumed readers,
// multi-step relays and the browser's resuming reader, as a TypeScript user writes them.
import type { ServerResponse } from 'node:http';
import {
  createMemoryStore,
  createRelay,
  type Delta,
  type ResumeStore,
  resumeStream,
  type StreamSummary,
  stream,
} from 'llm-relay';
import { readStream } from 'llm-relay/client';
import { useStream } from 'llm-relay/react';

const store = createMemoryStore();

export async function producer(res: ServerResponse): Promise<string> {
  const s = stream({ provider: 'openai', body: { model: 'gpt-4o-mini', messages: [] } });
  const summary: StreamSummary = await s.pipe(res, {
    format: 'ui-message',
    resume: { store, id: 'chat-1', abandonAfterMs: 60_000 },
  });
  const web: Promise<Response> = stream({ provider: 'openai', body: {} }).toResponse({
    resume: { store, id: 'chat-2' },
  });
  const plain: Response = stream({ provider: 'openai', body: {} }).toResponse({ format: 'sse' });
  return summary.text + (await web).status + plain.status;
}

export async function reader(res: ServerResponse, lastEventId: string | undefined): Promise<number> {
  const summary: unknown = await store
    .resume('chat-1', { lastEventId })
    .pipe(res, { format: 'sse', heartbeatMs: 5000 });
  const response: Response = await store
    .resume('chat-1', { lastEventId: 7 })
    .toResponse({ format: 'ui-message', signal: AbortSignal.timeout(1000) });
  let n = 0;
  for await (const d of store.resume('chat-1')) {
    const delta: Delta = d;
    if (delta.type === 'text') n += delta.text.length;
  }
  const custom: ResumeStore = store;
  const again = resumeStream(custom, 'chat-1', {});
  void again.id;
  void summary;
  return n + response.status + ((await store.hasReaders('chat-1')) ? 1 : 0);
}

export async function agent(res: ServerResponse): Promise<number> {
  const relay = createRelay(res, { format: 'sse', resume: { store, id: 'agent-1' } });
  relay.write({ type: 'data', name: 'status', data: { step: 1 } });
  const first = await relay.forward(stream({ provider: 'openai', body: {} }));
  relay.write({ type: 'data', name: 'tool-result', data: first.toolCalls.length });
  await relay.forward(stream({ provider: 'openai', body: {} }));
  relay.end();
  const { steps } = await relay.done;
  const web = createRelay({ format: 'ui-message' });
  const response: Response = web.response;
  const resumable = createRelay({ format: 'ui-message', resume: { store, id: 'agent-2' } });
  const later: Response = await resumable.response;
  return steps.length + response.status + later.status + relay.messageId.length;
}

export async function browser(): Promise<string> {
  let text = '';
  const response = fetch('/api/chat', { method: 'POST' });
  for await (const d of readStream(response, {
    resume: {
      url: (id) => `/api/chat/${id}/stream`,
      retries: 3,
      delayMs: 100,
      maxDelayMs: 2000,
      headers: { authorization: 'x' },
    },
  })) {
    if (d.type === 'text') text += d.text;
  }
  return text;
}

export function component(): string {
  const { text } = useStream({ api: '/api/chat', resume: { url: '/api/chat/1/stream' } });
  return text;
}

// Compiled with `tsc --noEmit` by test/unit/types.test.js: the resume stores
// as a TypeScript user (or a store author) writes them.
import {
  createMemoryStore,
  createRedisStore,
  RelayError,
  type ResumeBatch,
  type ResumeEntry,
  type ResumeStore,
  type ResumeTerminal,
} from 'llm-relay';

export async function resumeExample(signal: AbortSignal): Promise<string> {
  const memory = createMemoryStore({ maxBytes: 1 << 20, ttlSeconds: 60 });
  const redis = createRedisStore({
    url: 'redis://127.0.0.1:6379/0',
    keyPrefix: 'app:',
    ttlSeconds: 3600,
    maxBatches: 10_000,
  });
  const stores: ResumeStore[] = [memory, redis];
  const batch: ResumeBatch = { first: 1, count: 1, data: '{"type":"text","text":"hi"},' };
  const done: ResumeTerminal = { ok: false, error: { code: 'ABORTED', message: 'stopped', retryAfterMs: 5 } };
  let text = '';
  for (const store of stores) {
    await store.claim('chat-1', { responseId: 'r', created: 1, model: 'm' }, { ttlSeconds: 10 });
    const remove = store.onStop('chat-1', () => {});
    store.append('chat-1', batch);
    await store.end('chat-1', done);
    remove();
    try {
      for await (const entry of store.read('chat-1', { after: 0, signal })) {
        const e: ResumeEntry = entry;
        if (e.type === 'batch') text += e.data.slice(0, e.count);
        if (e.type === 'end' && !e.ok) text += e.error.code;
      }
    } catch (err) {
      if (
        err instanceof RelayError &&
        (err.code === 'NOT_FOUND' || err.code === 'PRODUCER_LOST' || err.code === 'STORE_UNAVAILABLE')
      )
        text += err.code;
    }
    text += String(await store.stop('chat-1'));
    await store.close();
  }
  text += memory.stats().bytes + String(redis.stats().available) + redis.keys('chat-1').meta;
  return text;
}

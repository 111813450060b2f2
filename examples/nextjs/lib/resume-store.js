// One resume store per server process, shared by the route handlers: Redis when REDIS_URL is set
// (any instance can resume any answer), else this process's memory.
import { createMemoryStore, createRedisStore } from 'llm-relay';

// globalThis: Next.js dev mode reloads modules, and two stores would not see each other's streams.
const key = Symbol.for('llm-relay-example.resume-store');
export const store = (globalThis[key] ??= process.env.REDIS_URL
  ? createRedisStore({ url: process.env.REDIS_URL })
  : createMemoryStore());

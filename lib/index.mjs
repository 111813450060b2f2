// ESM entry: the same objects as the CommonJS entry.
import relay from './index.js';

export const {
  stream,
  LLMStream,
  RelayError,
  providers,
  createMemoryStore,
  createRedisStore,
  createRelay,
  resumeStream,
} = relay;
export default relay;

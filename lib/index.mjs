// ESM entry: the same objects as the CommonJS entry.
import relay from './index.js';

export const { stream, LLMStream, RelayError, providers } = relay;
export default relay;

'use strict';

/**
 * llm-relay/testing: a scripted local LLM provider for tests, demos and examples.
 *
 * ```js
 * const { startMockProvider } = require('llm-relay/testing');
 * const mock = await startMockProvider({ script: { tokens: 'Hello world' } });
 * const res = await fetch(mock.endpoint('openai'), {
 *   method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] }),
 * });
 * // … read the SSE body …
 * await mock.close();
 * ```
 *
 * It speaks each provider's exact wire format (OpenAI Chat Completions and legacy Completions, OpenAI
 * Responses, Anthropic Messages, Gemini alt=sse, Ollama NDJSON, plain SSE), picked from the request
 * path unless `provider` is given, and can stall, ping, reset, fail mid-stream, answer an HTTP error,
 * hang, replay recorded fixtures or send raw bytes split into writes of any size. Full contract:
 * testing.d.ts.
 * @module llm-relay/testing
 */

const { startMockProvider, MockProvider } = require('./server');
const { splitTokens } = require('./scenario');
const { getTestCertificates } = require('./tls');

module.exports = { startMockProvider, MockProvider, splitTokens, getTestCertificates };

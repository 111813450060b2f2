'use strict';

/**
 * llm-relay: stream LLM answers from providers to browsers, with the
 * per-token work on a native worker thread.
 * @module llm-relay
 */
const { stream, LLMStream } = require('./stream');
const { RelayError } = require('./errors');
const { PROVIDER_NAMES } = require('./providers');
const { createMemoryStore, createRedisStore } = require('./resume');
const { createRelay } = require('./server/relay');
const { resume: resumeStream } = require('./server/resumed');

const binding = require('./binding');

module.exports = {
  stream,
  LLMStream,
  RelayError,
  providers: PROVIDER_NAMES,
  createMemoryStore,
  createRedisStore,
  createRelay,
  resumeStream,
};

// For bench/ and tests: run the native framing + adapter (+ encoder) over
// bytes in memory on this thread. Not a stable API.
Object.defineProperty(module.exports, '__bench', {
  enumerable: false,
  value: {
    /** @returns {{ ns: number, output: Buffer, summary: string, error: string }} */
    parse: (provider, format, buffer, chunkSize, iterations) =>
      binding.native.parse(provider, format, buffer, chunkSize, iterations),
    curlVersion: binding.native.curlVersion,
  },
});

'use strict';

// The one table of providers on the JavaScript side: each file holds what a
// provider needs on the request side (where, how to authenticate, how to ask
// for a stream) and how it words an HTTP error. The response side is the
// native adapter of the same name (src/providers/registry.cc is its table).
// Adding a provider: its file here, its adapter there, its mock format in
// lib/testing/formats/, and one row in each table.

const binding = require('../binding');
const { readErrorBody } = require('./error-body');

const PROVIDERS = Object.freeze({
  openai: require('./openai'),
  'openai-responses': require('./openai-responses'),
  anthropic: require('./anthropic'),
  gemini: require('./gemini'),
  ollama: require('./ollama'),
  sse: require('./sse'),
});

const PROVIDER_NAMES = Object.freeze(Object.keys(PROVIDERS));

// The two tables must name the same providers: a provider added on one side
// only would fail at its first request instead of here, at load.
const native = [...binding.providers].sort().join(',');
if (native !== [...PROVIDER_NAMES].sort().join(',')) {
  throw new Error(
    `llm-relay: the JavaScript providers (${PROVIDER_NAMES.join(', ')}) differ from the native adapters (${binding.providers.join(', ')})`,
  );
}

/** { message, type, retryAfterMs } from `provider`'s HTTP error body. */
function readProviderError(provider, body) {
  const spec = PROVIDERS[provider];
  return readErrorBody(body, spec ? spec.readError : PROVIDERS.openai.readError);
}

module.exports = { PROVIDERS, PROVIDER_NAMES, readProviderError };

'use strict';

/**
 * llm-relay: stream LLM answers from providers to browsers, with the
 * per-token work on a native worker thread.
 * @module llm-relay
 */
const { stream, LLMStream } = require('./stream');
const { RelayError } = require('./errors');
const { PROVIDER_NAMES } = require('./providers');

module.exports = {
  stream,
  LLMStream,
  RelayError,
  providers: PROVIDER_NAMES,
};

'use strict';

// The Anthropic Messages API. Response side: src/providers/anthropic.cc;
// mock: lib/testing/formats/anthropic.js.

const { readErrorObject } = require('./error-body');

module.exports = {
  baseURL: 'https://api.anthropic.com',
  envBaseURL: 'ANTHROPIC_BASE_URL',
  envKey: ['ANTHROPIC_API_KEY'],
  path: () => '/v1/messages',
  auth: (key) => [`x-api-key: ${key}`],
  extraHeaders: ['anthropic-version: 2023-06-01'],
  accept: 'text/event-stream',
  prepare: (body) => ({ ...body, stream: true }),
  // {"type":"error","error":{"type":"overloaded_error","message"}}
  readError: readErrorObject,
};

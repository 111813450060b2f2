'use strict';

// The OpenAI Responses API. Response side: src/providers/openai_responses.cc;
// mock: lib/testing/formats/openai-responses.js.

const { readErrorObject } = require('./error-body');

module.exports = {
  baseURL: 'https://api.openai.com/v1',
  envBaseURL: 'OPENAI_BASE_URL',
  envKey: ['OPENAI_API_KEY'],
  path: () => '/responses',
  auth: (key) => [`Authorization: Bearer ${key}`],
  accept: 'text/event-stream',
  prepare: (body) => ({ ...body, stream: true }),
  readError: readErrorObject,
};

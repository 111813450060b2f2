'use strict';

// OpenAI Chat Completions (and legacy Completions), and every host that
// speaks it. The response side is src/providers/openai.cc; the mock is
// lib/testing/formats/openai.js.

const { readErrorObject } = require('./error-body');

module.exports = {
  baseURL: 'https://api.openai.com/v1',
  envBaseURL: 'OPENAI_BASE_URL',
  envKey: ['OPENAI_API_KEY'],
  path: (body) => (body.messages === undefined && body.prompt !== undefined ? '/completions' : '/chat/completions'),
  auth: (key) => [`Authorization: Bearer ${key}`],
  accept: 'text/event-stream',
  prepare(body) {
    const out = { ...body, stream: true };
    // Usage comes only when asked for; ask unless the caller said otherwise.
    const so = body.stream_options;
    if (so === undefined || so === null) out.stream_options = { include_usage: true };
    else if (typeof so === 'object' && so.include_usage === undefined)
      out.stream_options = { ...so, include_usage: true };
    return out;
  },
  // {"error":{"message","type","param","code"}}; compatible hosts vary.
  readError: readErrorObject,
};

'use strict';

// Google Gemini streamGenerateContent?alt=sse. Response side:
// src/providers/gemini.cc; mock: lib/testing/formats/gemini.js.

const { readErrorObject } = require('./error-body');

/** A protobuf Duration string such as "37s" or "1.5s", in ms. */
function durationToMs(value) {
  const match = typeof value === 'string' && /^(\d+(?:\.\d+)?)s$/.exec(value);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

module.exports = {
  baseURL: 'https://generativelanguage.googleapis.com/v1beta',
  envBaseURL: 'GEMINI_BASE_URL',
  envKey: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  needsModel: true,
  path: (body, model) => `/models/${encodeURIComponent(model)}:streamGenerateContent?alt=sse`,
  auth: (key) => [`x-goog-api-key: ${key}`],
  accept: 'text/event-stream',
  prepare(body) {
    const out = { ...body };
    delete out.model; // the model is in the URL; Gemini rejects unknown fields
    return out;
  },
  // {"error":{"code":429,"message","status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"37s"}]}},
  // wrapped in an array by the JSON-array endpoint.
  readError(json) {
    const first = Array.isArray(json) ? json[0] : json;
    if (!first || typeof first !== 'object') return {};
    const info = readErrorObject(first);
    const details = first.error && Array.isArray(first.error.details) ? first.error.details : [];
    for (const detail of details) {
      const ms = durationToMs(detail && detail.retryDelay);
      if (ms !== undefined) info.retryAfterMs = ms;
    }
    return info;
  },
};

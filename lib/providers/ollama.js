'use strict';

// Ollama's native /api/chat and /api/generate (NDJSON). Response side:
// src/providers/ollama.cc; mock: lib/testing/formats/ollama.js.

const { readErrorObject } = require('./error-body');

module.exports = {
  baseURL: 'http://127.0.0.1:11434',
  envBaseURL: 'OLLAMA_BASE_URL',
  envKey: ['OLLAMA_API_KEY'],
  optionalKey: true,
  path: (body) => (body.messages === undefined && body.prompt !== undefined ? '/api/generate' : '/api/chat'),
  auth: (key) => [`Authorization: Bearer ${key}`],
  accept: 'application/x-ndjson',
  prepare: (body) => ({ ...body, stream: true }),
  // {"error":"model \"x\" not found, try pulling it first"}
  readError: readErrorObject,
};

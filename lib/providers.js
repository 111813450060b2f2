'use strict';

// What each provider needs on the request side: where to send it, how to
// authenticate, and how to ask for a stream. The response side lives in the
// native adapters (src/providers/).

const PROVIDERS = {
  openai: {
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
      else if (typeof so === 'object' && so.include_usage === undefined) out.stream_options = { ...so, include_usage: true };
      return out;
    },
  },
  'openai-responses': {
    baseURL: 'https://api.openai.com/v1',
    envBaseURL: 'OPENAI_BASE_URL',
    envKey: ['OPENAI_API_KEY'],
    path: () => '/responses',
    auth: (key) => [`Authorization: Bearer ${key}`],
    accept: 'text/event-stream',
    prepare: (body) => ({ ...body, stream: true }),
  },
  anthropic: {
    baseURL: 'https://api.anthropic.com',
    envBaseURL: 'ANTHROPIC_BASE_URL',
    envKey: ['ANTHROPIC_API_KEY'],
    path: () => '/v1/messages',
    auth: (key) => [`x-api-key: ${key}`],
    extraHeaders: ['anthropic-version: 2023-06-01'],
    accept: 'text/event-stream',
    prepare: (body) => ({ ...body, stream: true }),
  },
  gemini: {
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
  },
  ollama: {
    baseURL: 'http://127.0.0.1:11434',
    envBaseURL: 'OLLAMA_BASE_URL',
    envKey: ['OLLAMA_API_KEY'],
    optionalKey: true,
    path: (body) => (body.messages === undefined && body.prompt !== undefined ? '/api/generate' : '/api/chat'),
    auth: (key) => [`Authorization: Bearer ${key}`],
    accept: 'application/x-ndjson',
    prepare: (body) => ({ ...body, stream: true }),
  },
  sse: {
    baseURL: undefined,
    envKey: [],
    optionalKey: true,
    needsURL: true,
    path: () => '',
    auth: (key) => [`Authorization: Bearer ${key}`],
    accept: 'text/event-stream',
    prepare: (body) => body,
  },
};

const PROVIDER_NAMES = Object.keys(PROVIDERS);

module.exports = { PROVIDERS, PROVIDER_NAMES };

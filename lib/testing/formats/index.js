'use strict';

// The table of wire formats, request-path inference and the base URL a client should use per
// provider. Adding a format touches its own file and this table, nothing else.

const FORMATS = {
  openai: require('./openai'),
  'openai-completions': require('./openai-completions'),
  'openai-responses': require('./openai-responses'),
  anthropic: require('./anthropic'),
  gemini: require('./gemini'),
  ollama: require('./ollama'),
  sse: require('./sse'),
};

/**
 * Path that each provider's client appends to its base URL, matching the lead's stream() defaults:
 * openai 'https://api.openai.com/v1' + '/chat/completions', anthropic 'https://api.anthropic.com' +
 * '/v1/messages', gemini '…/v1beta' + '/models/{model}:streamGenerateContent?alt=sse', ollama
 * 'http://127.0.0.1:11434' + '/api/chat'.
 */
const BASE_PATHS = {
  openai: '/v1',
  'openai-completions': '/v1',
  'openai-responses': '/v1',
  anthropic: '',
  gemini: '/v1beta',
  ollama: '',
  sse: '',
};

function endpointPath(provider, model) {
  switch (provider) {
    case 'openai':
      return '/v1/chat/completions';
    case 'openai-completions':
      return '/v1/completions';
    case 'openai-responses':
      return '/v1/responses';
    case 'anthropic':
      return '/v1/messages';
    case 'gemini':
      return `/v1beta/models/${encodeURIComponent(model || FORMATS.gemini.defaultModel)}:streamGenerateContent?alt=sse`;
    case 'ollama':
      return '/api/chat';
    case 'sse':
      return '/sse';
    default:
      throw new TypeError(
        `Expected a provider (${Object.keys(FORMATS).join(', ')}) but received ${JSON.stringify(provider)}`,
      );
  }
}

const GEMINI_PATH = /\/models\/([^/]+):(streamGenerateContent|generateContent)$/;

/**
 * Which wire format a request path asks for, and its variant.
 * @param {string} pathname path without the query string
 * @param {string} [forced] the scenario's or the mock's provider, which wins over the path
 * @returns {{provider: string, variant?: string, model?: string, method?: string}}
 */
function resolveFormat(pathname, forced) {
  const gemini = GEMINI_PATH.exec(pathname);
  const geminiModel = gemini ? decodeURIComponent(gemini[1]) : undefined;
  if (forced) {
    // Within the OpenAI family the path still picks the endpoint; Ollama's path picks chat or generate.
    if (forced === 'openai' && /\/completions$/.test(pathname) && !/\/chat\/completions$/.test(pathname)) {
      return { provider: 'openai-completions' };
    }
    if (forced === 'ollama')
      return { provider: 'ollama', variant: /\/api\/generate$/.test(pathname) ? 'generate' : 'chat' };
    if (forced === 'gemini') return { provider: 'gemini', model: geminiModel, method: gemini ? gemini[2] : undefined };
    return { provider: forced };
  }
  if (/\/chat\/completions$/.test(pathname)) return { provider: 'openai' };
  if (/\/completions$/.test(pathname)) return { provider: 'openai-completions' };
  if (/\/responses$/.test(pathname)) return { provider: 'openai-responses' };
  if (/\/messages$/.test(pathname)) return { provider: 'anthropic' };
  if (gemini) return { provider: 'gemini', model: geminiModel, method: gemini[2] };
  if (pathname === '/api/chat') return { provider: 'ollama', variant: 'chat' };
  if (pathname === '/api/generate') return { provider: 'ollama', variant: 'generate' };
  return { provider: 'sse' };
}

module.exports = { FORMATS, BASE_PATHS, endpointPath, resolveFormat };

'use strict';

// Reading a provider's HTTP error body. Each provider's file says which
// shape it sends (readError); compatible hosts behind the 'openai' provider
// (OpenRouter, vLLM, Ollama's /v1, LiteLLM, ...) vary, so the readers are
// lenient, and a body no reader understands is quoted as text.

/** A body that is not JSON (a proxy's HTML page, plain text), quoted shortly. */
function textOf(body) {
  const text = body.replace(/\s+/g, ' ').trim();
  return text ? { message: text.length > 300 ? `${text.slice(0, 300)}…` : text } : {};
}

/**
 * The common `{ error: { message, type, code } }` shape (OpenAI, OpenRouter,
 * most compatible hosts), also `{ error: "text" }` and `{ message, type }`.
 */
function readErrorObject(json) {
  const err = json.error;
  if (typeof err === 'string') return { message: err };
  if (err && typeof err === 'object') {
    const type = err.type || err.status || (err.code !== undefined && err.code !== null ? String(err.code) : undefined);
    return { message: err.message, type };
  }
  if (typeof json.message === 'string') return { message: json.message, type: json.type };
  return {};
}

/**
 * Reads `body` with `readError(json)` into { message, type, retryAfterMs }.
 * @param {string|undefined} body
 * @param {(json: object) => {message?: string, type?: string, retryAfterMs?: number}} readError
 */
function readErrorBody(body, readError) {
  if (!body) return {};
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    return textOf(body);
  }
  if (!json || typeof json !== 'object') return {};
  return readError(json);
}

module.exports = { readErrorBody, readErrorObject };

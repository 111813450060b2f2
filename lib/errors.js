'use strict';

/**
 * The one error class of llm-relay. `code` is stable and machine-readable:
 * HTTP_STATUS, NETWORK, TIMEOUT_CONNECT, TIMEOUT_FIRST_BYTE, TIMEOUT_IDLE,
 * TIMEOUT_TOTAL, ABORTED, PROVIDER_ERROR, PROTOCOL, TRUNCATED, LIMIT,
 * INVALID_ARGUMENT, and for resumable streams NOT_FOUND (unknown or expired
 * stream id), PRODUCER_LOST (its producer stopped without an end),
 * STORE_UNAVAILABLE (the resume store cannot be reached).
 */
class RelayError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {object} [fields] status, provider, retryAfterMs, type, cause, partial, body, headers
   */
  constructor(code, message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    // `err.name === 'AbortError'` is how most code recognises an abort.
    this.name = code === 'ABORTED' ? 'AbortError' : 'RelayError';
    this.code = code;
    for (const key of ['status', 'provider', 'retryAfterMs', 'type', 'partial', 'body', 'headers']) {
      if (fields[key] !== undefined) this[key] = fields[key];
    }
  }
}

const TIMEOUT_CODES = new Set(['TIMEOUT_CONNECT', 'TIMEOUT_FIRST_BYTE', 'TIMEOUT_IDLE', 'TIMEOUT_TOTAL']);

function invalidArgument(message) {
  return new RelayError('INVALID_ARGUMENT', message);
}

/** Parses a protobuf Duration string such as "37s" or "1.5s" into ms. */
function durationToMs(value) {
  const match = typeof value === 'string' && /^(\d+(?:\.\d+)?)s$/.exec(value);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/**
 * Reads a provider's error body (OpenAI, Anthropic, Gemini, Ollama,
 * OpenRouter shapes) into { message, type, retryAfterMs }.
 */
function readErrorBody(body) {
  if (!body) return {};
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    const text = body.replace(/\s+/g, ' ').trim();
    return text ? { message: text.length > 300 ? `${text.slice(0, 300)}…` : text } : {};
  }
  if (Array.isArray(json)) json = json[0]; // Gemini's JSON-array endpoint
  if (!json || typeof json !== 'object') return {};
  const err = json.error;
  if (typeof err === 'string') return { message: err }; // Ollama
  if (err && typeof err === 'object') {
    let retryAfterMs;
    if (Array.isArray(err.details)) {
      for (const detail of err.details) {
        const ms = durationToMs(detail && detail.retryDelay);
        if (ms !== undefined) retryAfterMs = ms;
      }
    }
    const type = err.type || err.status || (err.code !== undefined ? String(err.code) : undefined);
    return { message: err.message, type, retryAfterMs };
  }
  if (typeof json.message === 'string') return { message: json.message, type: json.type };
  return {};
}

/**
 * Builds the RelayError for a native end record's `error`.
 * @param {object} record { code, message, status?, type?, retryAfterMs?, body?, headers?, curlCode? }
 * @param {string} provider
 * @param {object} [partial] the summary so far
 */
function fromNative(record, provider, partial) {
  const fields = { provider, partial };
  let message = record.message;
  if (record.code === 'HTTP_STATUS') {
    const info = readErrorBody(record.body);
    fields.status = record.status;
    fields.type = info.type;
    fields.body = record.body;
    fields.headers = record.headers;
    fields.retryAfterMs = record.retryAfterMs !== undefined ? record.retryAfterMs : info.retryAfterMs;
    message = `${provider} answered HTTP ${record.status}${info.message ? `: ${info.message}` : ''}`;
  } else if (record.code === 'PROVIDER_ERROR') {
    fields.type = record.type;
    message = `${provider} reported an error in the stream${record.type ? ` (${record.type})` : ''}: ${record.message}`;
  } else if (record.status !== undefined) {
    fields.status = record.status;
  }
  if (record.curlCode !== undefined) fields.cause = Object.assign(new Error(record.message), { curlCode: record.curlCode });
  return new RelayError(record.code, message, fields);
}

module.exports = { RelayError, invalidArgument, fromNative, readErrorBody, TIMEOUT_CODES };

'use strict';

/**
 * The one error class of llm-relay. `code` is stable and machine-readable:
 * HTTP_STATUS, NETWORK, TIMEOUT_CONNECT, TIMEOUT_FIRST_BYTE, TIMEOUT_IDLE,
 * TIMEOUT_TOTAL, ABORTED, PROVIDER_ERROR, PROTOCOL, TRUNCATED, LIMIT,
 * INVALID_ARGUMENT, and for resumable streams NOT_FOUND (unknown or expired
 * stream id), PRODUCER_LOST (its producer stopped without an end),
 * STORE_UNAVAILABLE (the resume store cannot be reached).
 */
// One brand for every copy of RelayError: this class, the browser client's
// (lib/client.mjs), and those of other installed copies of the package, so
// `err instanceof RelayError` holds whichever one threw it.
const BRAND = Symbol.for('llm-relay.RelayError');

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

  static [Symbol.hasInstance](value) {
    // A subclass keeps the ordinary prototype check.
    if (this !== RelayError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value !== null && typeof value === 'object' && value[BRAND] === true;
  }
}
Object.defineProperty(RelayError.prototype, BRAND, { value: true });

const TIMEOUT_CODES = new Set(['TIMEOUT_CONNECT', 'TIMEOUT_FIRST_BYTE', 'TIMEOUT_IDLE', 'TIMEOUT_TOTAL']);

function invalidArgument(message) {
  return new RelayError('INVALID_ARGUMENT', message);
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
    // Required here, not at the top: lib/providers loads the addon.
    const info = require('./providers').readProviderError(provider, record.body);
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
  if (record.curlCode !== undefined)
    fields.cause = Object.assign(new Error(record.message), { curlCode: record.curlCode });
  return new RelayError(record.code, message, fields);
}

module.exports = { RelayError, invalidArgument, fromNative, TIMEOUT_CODES };

// The error class of llm-relay/client, shared by readStream and
// readWebSocket. Same shape and codes as the server's RelayError.

// Shared with the server's RelayError (lib/errors.js): `instanceof` holds
// for an error from either class, whichever copy of the package made it.
const BRAND = Symbol.for('llm-relay.RelayError');

// The codes a server's error answer may name (pipe(res, { errorStatus: true })
// answers {"error":{"code":…}}); anything else stays HTTP_STATUS.
export const RELAY_CODES = new Set([
  'HTTP_STATUS',
  'NETWORK',
  'TIMEOUT_CONNECT',
  'TIMEOUT_FIRST_BYTE',
  'TIMEOUT_IDLE',
  'TIMEOUT_TOTAL',
  'ABORTED',
  'PROVIDER_ERROR',
  'PROTOCOL',
  'TRUNCATED',
  'LIMIT',
  'INVALID_ARGUMENT',
  // Resumable streams (store.resume(): 404, 503).
  'NOT_FOUND',
  'PRODUCER_LOST',
  'STORE_UNAVAILABLE',
]);

/**
 * The error every failure of `readStream` and `readWebSocket` throws. `code`
 * is one of the stable codes of llm-relay (HTTP_STATUS, ABORTED, TRUNCATED,
 * PROTOCOL, NETWORK, or whatever the server's in-band error named, e.g.
 * TIMEOUT_IDLE), with `status` and `retryAfterMs` when the server sent them.
 * An abort has `name` 'AbortError' and `cause` = the signal's reason.
 */
export class RelayError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ status?: number, retryAfterMs?: number, cause?: unknown }} [fields]
   */
  constructor(code, message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    // `err.name === 'AbortError'` is how most code recognises an abort.
    this.name = code === 'ABORTED' ? 'AbortError' : 'RelayError';
    this.code = code;
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.retryAfterMs !== undefined) this.retryAfterMs = fields.retryAfterMs;
  }

  static [Symbol.hasInstance](value) {
    // A subclass keeps the ordinary prototype check.
    if (this !== RelayError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value !== null && typeof value === 'object' && value[BRAND] === true;
  }
}
Object.defineProperty(RelayError.prototype, BRAND, { value: true });

export function abortError(signal) {
  return new RelayError('ABORTED', 'The stream was aborted', { cause: signal.reason });
}

/**
 * The RelayError for the members of a server's in-band error
 * ({code, message, status?, retryAfterMs?}).
 */
export function errorFromFields(json) {
  const code = json && typeof json.code === 'string' && json.code ? json.code : 'PROVIDER_ERROR';
  const message = json && typeof json.message === 'string' ? json.message : 'The server reported an error';
  const fields = {};
  if (json && Number.isInteger(json.status)) fields.status = json.status;
  if (json && Number.isFinite(json.retryAfterMs)) fields.retryAfterMs = json.retryAfterMs;
  return new RelayError(code, message, fields);
}

'use strict';

// The error a client is told after the 200, when JavaScript has to say it
// (the worker encodes it otherwise, src/encoders/): a stream that failed or
// was aborted before it became a relay, and the WebSocket relay. Every path
// carries the same members as the worker's encoders:
//   code, message, status (HTTP_STATUS: the provider's status), retryAfterMs
// and never the provider's error body, which can hold account details or a
// masked API key (OpenAI's 401 does).

/**
 * The members of an in-band error for a RelayError.
 * @param {{ code: string, message: string, status?: number, retryAfterMs?: number }} error
 * @returns {{ code: string, message: string, status?: number, retryAfterMs?: number }}
 */
function inBandError(error) {
  const code = typeof error.code === 'string' && error.code !== '' ? error.code : 'PROVIDER_ERROR';
  if (code !== 'HTTP_STATUS') return { code, message: String(error.message) };
  const out = { code, message: `The provider answered HTTP ${error.status}` };
  if (Number.isInteger(error.status) && error.status > 0) out.status = error.status;
  if (Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0) out.retryAfterMs = Math.round(error.retryAfterMs);
  return out;
}

/**
 * The bytes of an in-band error in a downstream format, as the worker writes
 * them; undefined for 'text', which cannot carry one (the relay cuts the
 * body short instead).
 * @param {string} format 'sse' | 'openai' | 'ndjson' | 'ui-message' | 'text'
 * @param {object} error a RelayError
 * @returns {Buffer | undefined}
 */
function encodeInBandError(format, error) {
  const fields = inBandError(error);
  switch (format) {
    case 'sse':
      return Buffer.from(`event: error\ndata: ${JSON.stringify(fields)}\n\n`);
    case 'ndjson':
      return Buffer.from(`${JSON.stringify({ type: 'error', ...fields })}\n`);
    case 'openai':
      return Buffer.from(`data: ${JSON.stringify({ error: { type: 'relay_error', ...fields } })}\n\n`);
    case 'ui-message':
      return Buffer.from(
        `data: ${JSON.stringify({ type: 'error', errorText: `${fields.code}: ${fields.message}`, ...fields })}\n\n`,
      );
    default:
      return undefined;
  }
}

module.exports = { inBandError, encodeInBandError };

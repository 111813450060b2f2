'use strict';

// The RelayErrors a resume store raises. Those a server can answer before
// any event carry the HTTP status to use (NOT_FOUND 404, STORE_UNAVAILABLE
// 503, a live id 409, a trimmed log 410); PRODUCER_LOST comes after the
// logged events, in band.

const { RelayError } = require('../errors');

/** Unknown id, expired, or replaced by a newer stream under the same id. */
function notFound(id, why = 'no stream with this id (never started, or expired)') {
  return new RelayError('NOT_FOUND', `Resume store: ${why}: ${JSON.stringify(id)}`, { status: 404 });
}

/** The producer stopped refreshing its claim and wrote no end record. */
function producerLost(id) {
  return new RelayError(
    'PRODUCER_LOST',
    `Resume store: the producer of stream ${JSON.stringify(id)} stopped without ending it (process gone or cut off from the store); what it logged was delivered`,
  );
}

/** The store cannot be reached (or was closed). `cause` is the socket or reply error. */
function unavailable(message, cause) {
  return new RelayError('STORE_UNAVAILABLE', `Resume store unavailable: ${message}`, { status: 503, cause });
}

/**
 * A second producer for a live id. INVALID_ARGUMENT, not a new code: the
 * caller chose an id that is in use, which is bad input like any other, and
 * the error-code list is part of the stable contract. `status` 409 tells a
 * server how to answer.
 */
function claimConflict(id) {
  return new RelayError(
    'INVALID_ARGUMENT',
    `Expected an id with no live stream for resume.id but received ${JSON.stringify(id)}: a producer is still streaming it (stop it with store.stop(id), or wait for its end)`,
    { status: 409 },
  );
}

/** The reader needs events the bounded log no longer holds. */
function logTrimmed(id, needed, oldest) {
  const what = oldest === undefined ? 'the stream was evicted' : `the oldest event still logged is ${oldest}`;
  return new RelayError(
    'LIMIT',
    `Resume store: stream ${JSON.stringify(id)} no longer holds event ${needed} (${what}); raise the store's bound to resume this far back`,
    { status: 410 },
  );
}

/**
 * The RelayError a reader raises for a failed end record (`{ ok: false, error }`),
 * with the producer's code, message, status and retryAfterMs, and `partial`.
 */
function terminalError(terminal) {
  const { code, message, status, retryAfterMs } = terminal.error;
  return new RelayError(code, message, { status, retryAfterMs, partial: terminal.summary });
}

module.exports = { notFound, producerLost, unavailable, claimConflict, logTrimmed, terminalError };

'use strict';

// Checks for what producers and readers hand a resume store. The hot one,
// checkBatch(), runs once per append: type checks only, no scan of `data`.

const { invalidArgument } = require('../errors');
const { describe, isPlainObject } = require('../validate');

const MAX_ID_LENGTH = 256;
// C0 controls and DEL would break log lines and HTTP headers (the id travels
// in `llm-relay-stream-id`). Braces would move the Redis Cluster hash tag
// (`{<id>}`) and so split one stream's keys across slots.
const BAD_ID_CHAR = /[\u0000-\u001f\u007f{}]/;
// setTimeout's limit (2^31 - 1 ms), so both stores accept the same values.
const MAX_TTL_SECONDS = 2_147_483;

/** @returns {string} the id, if it is a valid stream id */
function checkId(id, name = 'id') {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || BAD_ID_CHAR.test(id)) {
    throw invalidArgument(
      `Expected a string of 1 to ${MAX_ID_LENGTH} characters without control characters or braces for ${name} but received ${describe(id)}`,
    );
  }
  return id;
}

function checkTtl(value, name) {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TTL_SECONDS) {
    throw invalidArgument(
      `Expected an integer from 1 to ${MAX_TTL_SECONDS} for ${name} but received ${describe(value)}`,
    );
  }
  return value;
}

function checkPositiveInteger(value, name) {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument(`Expected a positive integer for ${name} but received ${describe(value)}`);
  }
  return value;
}

/** Rejects keys a store does not know, so a typo is not silently ignored. */
function checkKnownKeys(options, known, name) {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalidArgument(`Unknown option ${name}.${key}; expected one of ${known.join(', ')}`);
    }
  }
}

function checkOptions(options, known, name) {
  if (options === undefined) return {};
  if (!isPlainObject(options))
    throw invalidArgument(`Expected an object for ${name} but received ${describe(options)}`);
  checkKnownKeys(options, known, name);
  return options;
}

/** meta: any JSON object; returned serialized (both stores keep the text). */
function serializeMeta(meta) {
  if (meta === undefined) return '{}';
  if (!isPlainObject(meta)) throw invalidArgument(`Expected a plain object for meta but received ${describe(meta)}`);
  return JSON.stringify(meta);
}

/**
 * One append. `expected` is the seq the batch must start at: batches are
 * contiguous, so readers can tell a gap from a trim.
 */
function checkBatch(batch, expected, id) {
  if (batch === null || typeof batch !== 'object') {
    throw invalidArgument(
      `Expected a batch { first, count, data } for append(${JSON.stringify(id)}) but received ${describe(batch)}`,
    );
  }
  const { first, count, data } = batch;
  if (first !== expected) {
    throw invalidArgument(
      `Expected batch.first ${expected} (batches are contiguous) for stream ${JSON.stringify(id)} but received ${describe(first)}`,
    );
  }
  if (!Number.isSafeInteger(count) || count < 1) {
    throw invalidArgument(`Expected a positive integer for batch.count but received ${describe(count)}`);
  }
  if (typeof data === 'string') {
    if (data.length === 0 || data.charCodeAt(data.length - 1) !== 44) {
      throw invalidArgument(`Expected comma-terminated Delta JSON for batch.data but received ${describe(data)}`);
    }
  } else if (!(data instanceof Uint8Array) || data.length === 0 || data[data.length - 1] !== 44) {
    throw invalidArgument(
      `Expected comma-terminated Delta JSON (string or Buffer) for batch.data but received ${describe(data)}`,
    );
  }
}

/** The end record; returned serialized. */
function serializeTerminal(terminal) {
  if (!isPlainObject(terminal) || typeof terminal.ok !== 'boolean') {
    throw invalidArgument(
      `Expected { ok: true, summary } or { ok: false, error } for the end record but received ${describe(terminal)}`,
    );
  }
  if (!terminal.ok) {
    const { error } = terminal;
    if (!isPlainObject(error) || typeof error.code !== 'string' || typeof error.message !== 'string') {
      throw invalidArgument(`Expected error { code, message } in a failed end record but received ${describe(error)}`);
    }
  }
  return JSON.stringify(terminal);
}

/** read()'s `after`: the last seq the reader saw, 0 (or undefined) for all. */
function checkAfter(after) {
  if (after === undefined || after === null) return 0;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw invalidArgument(
      `Expected a non-negative integer (the last event id seen) for after but received ${describe(after)}`,
    );
  }
  return after;
}

/**
 * A Last-Event-ID header (or option) as read()'s `after`: the relay's event
 * ids are decimal sequence numbers. Missing or empty: 0 (replay all).
 */
function parseLastEventId(value) {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  throw invalidArgument(
    `Expected an event id this relay sent (a decimal number) for lastEventId but received ${describe(value)}`,
  );
}

module.exports = {
  parseLastEventId,
  MAX_ID_LENGTH,
  checkId,
  checkTtl,
  checkPositiveInteger,
  checkOptions,
  serializeMeta,
  checkBatch,
  serializeTerminal,
  checkAfter,
};

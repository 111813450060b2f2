'use strict';

// Batches hold `count` Delta JSON objects, each followed by a comma. A reader
// resuming inside a batch gets it cut at a delta boundary; only that one
// batch per resume is scanned, so appends never pay for it.

const { RelayError } = require('../errors');

const COMMA = 44;
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/**
 * Index just past the n-th top-level comma of `data`, or -1. Commas inside
 * strings and nested objects are not boundaries.
 */
function afterDeltas(data, n) {
  let depth = 0;
  let inString = false;
  let seen = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COMMA && depth === 0 && ++seen === n) {
      return i + 1;
    }
  }
  return -1;
}

/**
 * The part of a batch after seq `after` (exclusive), or null if none.
 * @param {{ first: number, count: number, data: string }} batch
 * @param {number} after
 * @returns {{ first: number, count: number, data: string } | null}
 */
function cutBatch(batch, after) {
  if (batch.first > after) return batch;
  const skip = after - batch.first + 1;
  if (skip >= batch.count) return null;
  const at = afterDeltas(batch.data, skip);
  if (at === -1) {
    throw new RelayError(
      'PROTOCOL',
      `Resume store: the batch at event ${batch.first} holds fewer than ${batch.count} deltas`,
    );
  }
  return { first: after + 1, count: batch.count - skip, data: batch.data.slice(at) };
}

/** Stored data as the string readers get. */
function dataText(data) {
  return typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
}

module.exports = { afterDeltas, cutBatch, dataText };

'use strict';

// Identifiers and padding the mock puts in its bytes. Real providers use random ids, so tests
// must not depend on them; the seeded generator exists only for reproducible write splits.

const crypto = require('node:crypto');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of `length` characters from [A-Za-z0-9]. */
function randomAlnum(length) {
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i] % ALNUM.length];
  return out;
}

/** A random lowercase hex string of `length` characters. */
function randomHex(length) {
  return crypto
    .randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

/**
 * Mulberry32: a tiny seeded PRNG. Returns a function giving floats in [0, 1).
 * Chosen because the same seed must give the same write splits on every run and machine,
 * which Math.random cannot promise.
 */
function seededRandom(seed) {
  let state = Number(seed) >>> 0 || 0x9e3779b9;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * OpenAI's `obfuscation` field: random padding "to normalize payload sizes" (docs/wire-formats.md §2).
 * Its length varies per chunk, so do the same.
 */
function obfuscation() {
  return randomAlnum(1 + crypto.randomInt(15));
}

module.exports = { randomAlnum, randomHex, seededRandom, obfuscation };

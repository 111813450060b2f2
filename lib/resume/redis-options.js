'use strict';

// createRedisStore()'s options: checked, with their defaults.

const { invalidArgument } = require('../errors');
const v = require('./validate');

const DEFAULTS = {
  keyPrefix: 'llm-relay:',
  ttlSeconds: 3600,
  maxBatches: 100_000,
  connectTimeoutMs: 5000,
  commandTimeoutMs: 5000,
};
const OPTIONS = [
  'url',
  'client',
  'tls',
  'keyPrefix',
  'ttlSeconds',
  'maxBatches',
  'connectTimeoutMs',
  'commandTimeoutMs',
];

/**
 * Checks createRedisStore()'s options (redis-store.js documents them) and
 * fills in the defaults. Throws INVALID_ARGUMENT naming the first bad one.
 * @param {object} options
 * @returns {{ url?: string, client?: object, tls?: object, keyPrefix: string, ttlSeconds: number,
 *   maxBatches: number, connectTimeoutMs: number, commandTimeoutMs: number }}
 */
function redisStoreOptions(options) {
  const opts = v.checkOptions(options, OPTIONS, 'createRedisStore() options');
  if (opts.url === undefined && opts.client === undefined) {
    throw invalidArgument(
      'Expected url (a redis:// URL) or client (a node-redis or ioredis client) for createRedisStore() but received neither',
    );
  }
  const prefix = opts.keyPrefix === undefined ? DEFAULTS.keyPrefix : opts.keyPrefix;
  if (typeof prefix !== 'string' || /[{}\u0000-\u001f]/.test(prefix)) {
    throw invalidArgument(
      `Expected a string without braces or control characters for keyPrefix but received ${JSON.stringify(prefix)}`,
    );
  }
  const ttlSeconds = opts.ttlSeconds === undefined ? DEFAULTS.ttlSeconds : v.checkTtl(opts.ttlSeconds, 'ttlSeconds');
  const maxBatches =
    opts.maxBatches === undefined ? DEFAULTS.maxBatches : v.checkPositiveInteger(opts.maxBatches, 'maxBatches');
  const connectTimeoutMs =
    opts.connectTimeoutMs === undefined
      ? DEFAULTS.connectTimeoutMs
      : v.checkPositiveInteger(opts.connectTimeoutMs, 'connectTimeoutMs');
  const commandTimeoutMs =
    opts.commandTimeoutMs === undefined
      ? DEFAULTS.commandTimeoutMs
      : v.checkPositiveInteger(opts.commandTimeoutMs, 'commandTimeoutMs');
  return {
    url: opts.url,
    client: opts.client,
    tls: opts.tls,
    keyPrefix: prefix,
    ttlSeconds,
    maxBatches,
    connectTimeoutMs,
    commandTimeoutMs,
  };
}

module.exports = { redisStoreOptions };

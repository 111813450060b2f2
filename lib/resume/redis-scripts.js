'use strict';

// The Lua scripts of the Redis store, run with EVALSHA (EVAL once when
// Redis does not have them cached yet). Each touches the keys of one
// stream only, which share a cluster slot.

const crypto = require('node:crypto');
const { unavailable } = require('./errors');

function script(text) {
  return { text, sha: crypto.createHash('sha1').update(text).digest('hex') };
}

/**
 * Producer heartbeat. KEYS owner, meta, log; ARGV run, owner ttl (ms), key
 * ttl (s, '0' = leave). Refreshes the claim while it is this run's, restores
 * it when it only expired (Redis was unreachable a while) and the meta still
 * names this run; 0 when another producer has the id or the keys are gone.
 */
const HEARTBEAT = script(`
local owner = redis.call('GET', KEYS[1])
if owner ~= ARGV[1] then
  if owner or redis.call('HGET', KEYS[2], 'run') ~= ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '0' then
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return 1
`);

/** KEYS owner; ARGV run. Deletes the claim only if it is still this run's. */
const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * Claim. KEYS owner, meta; ARGV run, owner ttl (ms), meta JSON, key ttl (s).
 * 0 when another producer holds the id; else the run it replaces ('' for
 * none), whose log the caller deletes. One round trip per new stream.
 */
const CLAIM = script(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local old = redis.call('HGET', KEYS[2], 'run')
redis.call('HSET', KEYS[2], 'run', ARGV[1], 'meta', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return old or ''
`);

/**
 * End record. KEYS owner, meta, log; ARGV run, entry id, record JSON,
 * maxBatches, key ttl (s). Logs the end record, releases the claim if it is
 * still this run's and lets the keys expire; 1, or the XADD's error text
 * (the rest still runs: a claim must not outlive its stream).
 */
const END = script(`
local added = redis.pcall('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], ARGV[2], 'e', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[5])
if type(added) == 'table' and added.err then return added.err end
return 1
`);

/**
 * Runs a script through the adapter's post(); cb(err, reply, ctx).
 * @param {object} adapter
 * @param {{ text: string, sha: string }} s
 */
function runScript(adapter, s, keys, args, cb, ctx) {
  const tail = [String(keys.length), ...keys, ...args];
  return adapter.post(['EVALSHA', s.sha, ...tail], (err, reply) => {
    if (err && /^NOSCRIPT/.test(err.message)) {
      if (!adapter.post(['EVAL', s.text, ...tail], cb, ctx)) cb(err, null, ctx);
    } else cb(err, reply, ctx);
  });
}

/** runScript as a promise of the reply. */
function sendScript(adapter, s, keys, args) {
  return new Promise((resolve, reject) => {
    const posted = runScript(adapter, s, keys, args, (err, reply) => (err ? reject(err) : resolve(reply)), null);
    if (!posted) reject(unavailable('Redis is not connected'));
  });
}

module.exports = { HEARTBEAT, RELEASE, CLAIM, END, runScript, sendScript };

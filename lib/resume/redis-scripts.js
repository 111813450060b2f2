'use strict';

// The two Lua scripts of the Redis store, run with EVALSHA (EVAL once when
// Redis does not have them cached yet). Each touches the keys of one
// stream only, which share a cluster slot.

const crypto = require('node:crypto');

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

module.exports = { HEARTBEAT, RELEASE, runScript };

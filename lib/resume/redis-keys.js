'use strict';

// The Redis store's names. Keys of stream <id> (one cluster slot, by the
// `{<id>}` hash tag):
//   <prefix>{<id>}:meta         hash: run (claim token), meta (JSON)
//   <prefix>{<id>}:owner        string: the producing run, PX 3000, refreshed every second
//   <prefix>{<id>}:readers      string: a read() is open somewhere, PX 2500, refreshed every second
//   <prefix>{<id>}:log:<run>    stream: entries <first>-0 {c, d}, then <last+1>-0 {e}
// and one pub/sub channel <prefix>stop carrying the ids to stop.

const crypto = require('node:crypto');

// Run tokens (one per claim: a stream replaced under the same id never mixes
// with the old one's readers): random per process, then counted, which is
// unique across instances without a random draw per stream.
const RUN_PREFIX = crypto.randomBytes(9).toString('base64url');
let runCount = 0;

/**
 * A new run token, for one claim.
 * @returns {string}
 */
function nextRun() {
  runCount += 1;
  return `${RUN_PREFIX}${runCount.toString(36)}`;
}

/**
 * The key names of stream `id` (`log` only with the run).
 * @param {string} prefix the store's keyPrefix
 * @param {string} id
 * @param {string} [run]
 * @returns {{ meta: string, owner: string, readers: string, log: string | undefined }}
 */
function keyNames(prefix, id, run) {
  const base = `${prefix}{${id}}`;
  return {
    meta: `${base}:meta`,
    owner: `${base}:owner`,
    readers: `${base}:readers`,
    log: run === undefined ? undefined : `${base}:log:${run}`,
  };
}

module.exports = { nextRun, keyNames };

'use strict';

// What the Redis store keeps per stream it produces.

const { bulk } = require('./resp');

const LOST_ERROR = Object.freeze({
  code: 'STORE_UNAVAILABLE',
  message:
    'Redis was unreachable while this stream was being logged, so the log has a gap; the live response was not affected',
});

class Producing {
  constructor(id, run, keys, ttl, maxBatches, wire) {
    this.id = id;
    this.run = run;
    this.keys = keys;
    this.ttl = ttl;
    this.next = 1;
    this.broken = false; // an append was lost: only a STORE_UNAVAILABLE end may follow
    this.orphaned = false; // the id is no longer ours: write nothing more
    this.ended = false;
    this.terminalText = null;
    this.terminalWritten = false;
    this.logExpires = false;
    this.lastKeyRefresh = Date.now();
    this.stopListeners = new Set();
    this.stopped = false;
    // url mode: the constant head of this stream's XADD, encoded once.
    this.xaddHead = wire
      ? Buffer.from(`*10\r\n$4\r\nXADD\r\n${bulk(keys.log)}$6\r\nMAXLEN\r\n$1\r\n~\r\n${bulk(maxBatches)}`)
      : null;
  }
}

/** The end record to log: the producer's, or STORE_UNAVAILABLE (keeping its summary) when the log has a gap. */
function endRecordText(s) {
  if (!s.broken) return s.terminalText;
  const summary = s.terminalText === null ? undefined : JSON.parse(s.terminalText).summary;
  return JSON.stringify({ ok: false, error: LOST_ERROR, summary });
}

module.exports = { Producing, endRecordText };

'use strict';

// The part of a relay that does not care where the bytes go: write
// coalescing (flushMs) and backpressure (pause the provider transfer while
// the downstream is full). The bytes are the worker's, already encoded and
// with the heartbeats in them (src/output/heartbeat_sink.h): they are
// written as they are, never parsed.

const { kPause, kResume } = require('../internal');

class RelayWriter {
  /**
   * @param {object} stream the LLMStream (for kPause / kResume)
   * @param {{flushMs: number}} options
   * @param {(bytes: Buffer) => boolean} write sends bytes downstream; false
   *   means the downstream is full and resume() will be called once it drains
   */
  constructor(stream, options, write) {
    this.stream = stream;
    this.write = write;
    this.flushMs = options.flushMs;
    this.pending = [];
    this.flushTimer = undefined;
    this.blocked = false;
    this.stopped = false;
  }

  /** One batch of encoded bytes from the worker. */
  data(bytes) {
    if (this.stopped) return;
    if (this.flushMs === 0) {
      this.#send(bytes);
      return;
    }
    this.pending.push(bytes);
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.#flushPending();
      }, this.flushMs);
    }
  }

  /** The downstream drained (a 'drain' event, a pull()). */
  resume() {
    if (!this.blocked || this.stopped) return;
    this.blocked = false;
    this.stream[kResume]();
  }

  /** The stream ended: write what is pending now and stop the timer. */
  finish() {
    if (this.stopped) return;
    this.#flushPending();
    this.stop();
  }

  /**
   * The downstream is gone but the stream goes on (a resumable relay whose
   * client left): lift a pause it caused, then stop.
   */
  release() {
    if (this.blocked && !this.stopped) {
      this.blocked = false;
      this.stream[kResume]();
    }
    this.stop();
  }

  /** The downstream is gone: drop what is pending and stop the timer. */
  stop() {
    this.stopped = true;
    this.pending.length = 0;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  #flushPending() {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const { pending } = this;
    if (pending.length === 0) return;
    const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    pending.length = 0;
    this.#send(bytes);
  }

  #send(bytes) {
    const ok = this.write(bytes);
    if (!ok && !this.blocked && !this.stopped) {
      // Bytes already in flight from the worker still arrive and are written
      // (the downstream buffers them); the pause bounds that to about one
      // batch, instead of the whole answer piling up in memory. The worker
      // sends no heartbeat while paused.
      this.blocked = true;
      this.stream[kPause]();
    }
  }
}

/**
 * The heartbeat part of a relay command: the format's idle bytes and how
 * often (src/output/heartbeat_sink.h sends them from the worker).
 * @param {{heartbeatMs: number, spec: {heartbeat: Buffer|null}}} options
 * @param {boolean} [afterHead] none before the provider's head
 */
function heartbeatOf(options, afterHead = false) {
  const heartbeat = options.heartbeatMs > 0 ? options.spec.heartbeat : null;
  return { heartbeat, heartbeatMs: heartbeat === null ? 0 : options.heartbeatMs, heartbeatAfterHead: afterHead };
}

module.exports = { RelayWriter, heartbeatOf };

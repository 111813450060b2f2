'use strict';

// The part of a relay that does not care where the bytes go: write
// coalescing (flushMs), heartbeats while idle, and backpressure (pause the
// provider transfer while the downstream is full). The bytes are the
// worker's, already encoded: they are written as they are, never parsed.

const { kPause, kResume } = require('../internal');

class RelayWriter {
  /**
   * @param {object} stream the LLMStream (for kPause / kResume)
   * @param {{flushMs: number, heartbeatMs: number, spec: {heartbeat: Buffer|null}}} options
   * @param {(bytes: Buffer) => boolean} write sends bytes downstream; false
   *   means the downstream is full and resume() will be called once it drains
   */
  constructor(stream, options, write) {
    this.stream = stream;
    this.write = write;
    this.flushMs = options.flushMs;
    this.heartbeatMs = options.heartbeatMs;
    this.heartbeat = options.heartbeatMs > 0 ? options.spec.heartbeat : null;
    this.pending = [];
    this.flushTimer = undefined;
    this.heartbeatTimer = undefined;
    this.blocked = false;
    this.stopped = false;
  }

  /** The headers are out: from now on, idle time is filled with heartbeats. */
  startHeartbeat() {
    if (this.heartbeat === null || this.stopped || this.heartbeatTimer !== undefined) return;
    this.heartbeatTimer = setTimeout(() => this.#onHeartbeatTimer(), this.heartbeatMs);
    // The response's socket keeps the process alive while it matters.
    this.heartbeatTimer.unref();
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

  /** The stream ended: write what is pending now and stop the timers. */
  finish() {
    if (this.stopped) return;
    this.#flushPending();
    this.stop();
  }

  /** The downstream is gone: drop what is pending and stop the timers. */
  stop() {
    this.stopped = true;
    this.pending.length = 0;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.flushTimer = undefined;
    this.heartbeatTimer = undefined;
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
    // Any write proves the connection is alive: restart the idle clock.
    if (this.heartbeatTimer !== undefined) this.heartbeatTimer.refresh();
    if (!ok && !this.blocked && !this.stopped) {
      // Bytes already in flight from the worker still arrive and are written
      // (the downstream buffers them); the pause bounds that to about one
      // batch, instead of the whole answer piling up in memory.
      this.blocked = true;
      this.stream[kPause]();
    }
  }

  #onHeartbeatTimer() {
    if (this.stopped) return;
    if (this.blocked || this.pending.length > 0) {
      // A client that does not read gains nothing from more bytes, and
      // pending data is about to go out anyway.
      this.heartbeatTimer.refresh();
      return;
    }
    this.#send(this.heartbeat);
  }
}

module.exports = { RelayWriter };

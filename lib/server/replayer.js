'use strict';

// Turns a resume store's entries back into the bytes of a downstream format,
// as the live relay wrote them: the same C++ encoders (binding.createEncoder,
// src/pipeline/delta_replay.h), the same event ids, so a client that saw
// event N and reconnects gets exactly what followed it.
//
// Which entries a reader needs: `sse`, `ndjson` and `text` encode each delta
// on its own, so the reader starts at `after`. `openai` and `ui-message`
// carry state from delta to delta (the first chunk's role, which text part is
// open, the tool calls of a step), so the reader replays the log from the
// start and only emits what follows `after`.
//
// A multi-step relay (createRelay, meta.kind 'relay') logs, besides its
// steps' deltas and its `data` events, one marker per step,
// `{"type":"step","model","created"}`, alone in its batch: the live relay
// encoded each step with a fresh step encoder, so the reader does the same
// from the marker on. Markers are never sent to clients nor yielded as
// deltas; each takes a sequence number, so a relay's event ids skip one per
// step.

const binding = require('../binding');

const STATELESS = new Set(['sse', 'ndjson', 'text']);
const STEP_MARKER = '{"type":"step"';
const DATA_DELTA = '{"type":"data"';

/** Whether a batch is a multi-step relay's step marker (one-delta batch). */
function isStepMarker(entry) {
  return entry.count === 1 && entry.data.startsWith(STEP_MARKER);
}

/** The log entry for a step marker. */
function stepMarker(model, created) {
  return `${JSON.stringify({ type: 'step', model, created })},`;
}

/** The `after` to read the store from, for a reader that saw event `after` and wants `format`. */
function readFrom(format, after) {
  return STATELESS.has(format) ? after : 0;
}

const EMPTY = Buffer.alloc(0);

function cat(a, b) {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return Buffer.concat([a, b]);
}

class Replayer {
  /**
   * @param {string} format a downstream format
   * @param {number} after the last event id the client saw (0: none)
   */
  constructor(format, after) {
    this.format = format;
    this.after = after;
    this.full = !STATELESS.has(format);
    this.meta = undefined;
    this.encoder = undefined; // the whole stream's, or a relay's outer encoder
    this.step = undefined; // the encoder of a relay's current step
    this.stepSeq = 0; // the step's marker seq
  }

  /** The meta entry: the format's opening bytes (unless the client has them). */
  start(meta) {
    this.meta = meta;
    const relay = this.full && meta.kind === 'relay';
    this.encoder = binding.createEncoder(this.format, {
      responseId: String(meta.responseId || ''),
      model: String(meta.model || ''),
      created: Number(meta.created) || 0,
      role: relay ? 'outer' : 'whole',
      ids: true,
    });
    this.relay = relay;
    return this.encoder.start(this.after === 0);
  }

  /** A batch entry: the bytes it adds for this client (maybe none). */
  batch(entry) {
    if (isStepMarker(entry)) {
      if (!this.relay) return EMPTY;
      const closing = this.#closeStep(entry.first);
      const marker = JSON.parse(entry.data.slice(0, -1));
      this.step = binding.createEncoder(this.format, {
        responseId: String(this.meta.responseId || ''),
        model: String(marker.model || ''),
        created: Number(marker.created) || 0,
        role: 'step',
        ids: true,
      });
      this.stepSeq = entry.first;
      return cat(closing, this.step.start(this.after <= entry.first));
    }
    if (this.relay && entry.count === 1 && entry.data.startsWith(DATA_DELTA)) {
      // An app event of the relay: between steps, from the outer encoder.
      const closing = this.#closeStep(entry.first);
      return cat(closing, this.encoder.replay(entry.data, entry.first, this.after));
    }
    const target = this.step !== undefined ? this.step : this.encoder;
    return target.replay(entry.data, entry.first, this.after);
  }

  /** The end record: the format's end, or its error event. */
  end(entry) {
    if (entry.ok) return cat(this.#closeStep(Infinity), this.encoder.done());
    // A relay that failed between steps had closed its last step already.
    const inStep = !entry.summary || entry.summary.stepOpen !== false;
    const closing = inStep ? EMPTY : this.#closeStep(Infinity);
    return cat(closing, this.#errorBytes(entry.error));
  }

  /** A read that failed (PRODUCER_LOST, STORE_UNAVAILABLE, LIMIT): its error event. */
  fail(error) {
    return this.encoder === undefined ? EMPTY : this.#errorBytes(error);
  }

  #errorBytes(error) {
    const fields = { code: String(error.code || 'PROVIDER_ERROR'), message: String(error.message || '') };
    if (Number.isInteger(error.status) && error.code === 'HTTP_STATUS') fields.status = error.status;
    if (Number.isFinite(error.retryAfterMs)) fields.retryAfterMs = Math.round(error.retryAfterMs);
    return (this.step !== undefined ? this.step : this.encoder).error(fields);
  }

  /** Ends the current step; its closing bytes carry no id: sent unless the client saw what followed. */
  #closeStep(nextSeq) {
    if (this.step === undefined) return EMPTY;
    const bytes = this.step.done();
    this.step = undefined;
    return this.after < nextSeq ? bytes : EMPTY;
  }
}

module.exports = { Replayer, isStepMarker, stepMarker, readFrom };

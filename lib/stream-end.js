'use strict';

// How an LLMStream ends: the worker's end record becomes the summary or the
// RelayError, the reader's stream closes or errors, `done` settles and
// llm-relay:stream:end is published. It runs once per stream, never per
// batch; stream.js holds the state it works on (`s`, kState).

const diagnostics = require('node:diagnostics_channel');
const { RelayError, fromNative } = require('./errors');

const endChannel = diagnostics.channel('llm-relay:stream:end');

/**
 * Settles a stream from its end record: the relay's end(), or the reader's
 * close/error, then `done`, then the end channel.
 * @param {object} s the stream's state (stream.js, kState)
 * @param {{ ok: boolean, summary: object, error?: object, direct?: string }} record the worker's end record, parsed
 * @param {Buffer | undefined} tail the format's last bytes, for a relay
 */
function finish(s, record, tail) {
  s.ended = true;
  if (s.signal && s.onAbort) s.signal.removeEventListener('abort', s.onAbort);
  const summary = record.summary;
  let error;
  if (s.abortError && (!record.ok || s.relay === undefined)) {
    // Also when the worker completed before the abort reached it: abort()
    // promises ABORTED, and the deltas that arrived after it were dropped
    // (LLMStream#onRecord), so a clean end would pass a cut answer off as whole.
    error = s.abortError;
    error.partial = summary;
  } else if (!record.ok) {
    error = fromNative(record.error, s.provider, summary);
  }
  s.finalError = error;
  s.finalSummary = summary;
  if (s.relay !== undefined) {
    s.relay.end(error, summary, tail, false, record.direct);
  } else if (error === undefined) {
    try {
      s.controller.close();
    } catch {
      // cancelled by the reader
    }
  } else if (s.abortError) {
    // An abort drops what the reader has not read yet.
    try {
      s.controller.error(error);
    } catch {
      // cancelled by the reader
    }
  } else {
    // controller.error() drops queued chunks; the deltas that arrived
    // before the failure are part of the answer, so let the reader have
    // them first (pull() raises the error once the queue is empty).
    if (s.controller.desiredSize !== null && s.controller.desiredSize < 0) {
      s.pendingError = error;
    } else {
      try {
        s.controller.error(error);
      } catch {
        // cancelled by the reader
      }
    }
  }
  if (error === undefined) s.resolveDone(summary);
  else s.rejectDone(error);
  if (endChannel.hasSubscribers) {
    endChannel.publish({
      id: s.id,
      provider: s.provider,
      model: s.model,
      format: s.relay !== undefined ? s.mode : undefined,
      summary,
      error,
    });
  }
}

/**
 * The error of an aborted stream: code ABORTED, name 'AbortError', `cause` the reason.
 * @param {unknown} reason what abort() or the signal gave
 * @returns {RelayError}
 */
function abortError(reason) {
  return new RelayError(
    'ABORTED',
    reason instanceof Error && reason.message ? `The stream was aborted: ${reason.message}` : 'The stream was aborted',
    {
      cause: reason,
    },
  );
}

/**
 * The summary of a stream that never sent a request (aborted before start).
 * @param {string} outcome metrics.outcome
 * @returns {import('../index').StreamSummary}
 */
function emptySummary(outcome) {
  return {
    text: '',
    reasoning: '',
    toolCalls: [],
    finishReason: null,
    rawFinishReason: null,
    usage: null,
    metrics: {
      outcome,
      ttfbMs: null,
      ttftMs: null,
      durationMs: 0,
      deltas: 0,
      bytes: 0,
      retries: 0,
      gapP50Ms: 0,
      gapP99Ms: 0,
      gapMaxMs: 0,
      deltasPerSecond: null,
      outputTokensPerSecond: null,
    },
  };
}

module.exports = { finish, abortError, emptySummary };

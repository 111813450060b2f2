'use strict';

// pipe(): relays an LLMStream to a Node ServerResponse (node:http, Express 4
// and 5, and the node:http2 compatibility API). This file checks the options
// and the response and picks the way: at once, once a queued response gets
// its socket, or after a resumable relay's claim. NodeRelay (node-relay.js)
// writes the response; node-direct.js decides when the worker thread writes
// it to the socket itself.

const { invalidArgument } = require('../errors');
const { kRelay, kReserve, kInfo } = require('../internal');
const { describe } = require('../validate');
const { relayOptions } = require('./relay-options');
const { checkResponse } = require('./node-response');
const { ResumeProducer, streamMeta } = require('./resume-producer');
const { NodeRelay } = require('./node-relay');
const { directEligible, relayCommand } = require('./node-direct');

/**
 * Relays `stream` to a Node ServerResponse (LLMStream#pipe calls this).
 *
 * Options (all optional):
 * - `format` 'sse' (default) | 'openai' | 'ui-message' | 'ndjson' | 'text'.
 * - `heartbeatMs` (default 15000, 0 = off): after this long without a write,
 *   `: ping` (SSE-based formats) or a blank line (ndjson); never for text.
 * - `flushMs` (default 0): gather the writes of this many ms into one.
 * - `headers`: extra response headers (object or Headers), set after ours.
 * - `errorStatus` (default false): hold the headers until the provider has
 *   answered, so a failure before the stream becomes a real HTTP status:
 *   provider 429 → 429 with Retry-After, a timeout → 504, anything else →
 *   502, with the body `{"error":{"code","message","status"?,"retryAfterMs"?}}`.
 *   No heartbeat goes out before the headers do.
 * - `direct` (default on; LLM_RELAY_DIRECT=0 turns it off everywhere): on a
 *   plain HTTP/1.1 socket, the worker thread writes the head and the body
 *   itself (same bytes, no main-thread work per token); ignored where it
 *   cannot apply (TLS, HTTP/2, compression(), flushMs, errorStatus, a socket
 *   idle timeout).
 * - `resume: { store, id, abandonAfterMs? }`: a resumable relay (README
 *   "Resume", resume-producer.js): the id is claimed first (409 and a JSON
 *   body for a live one), every event gets an id, every batch is logged, and
 *   a client disconnect no longer aborts the provider request.
 *
 * A client disconnect aborts the provider request; a full socket
 * (res.write() false) pauses it until 'drain'. An error after the 200 is sent
 * as the format's error event and the response ends; 'text' cannot carry one,
 * so its body is cut short instead. Invalid options throw RelayError
 * INVALID_ARGUMENT synchronously and leave `res` and the stream untouched.
 *
 * The promise resolves with the summary of `done`, or rejects with the same
 * RelayError as `done` (ABORTED after a disconnect). The client has already
 * been told by then, so ignoring the promise is safe: it is never an
 * unhandled rejection.
 * @param {import('../stream').LLMStream} stream
 * @param {import('node:http').ServerResponse} res
 * @param {import('../../index').RelayOptions} [opts]
 * @returns {Promise<import('../../index').StreamSummary>}
 */
function pipe(stream, res, opts) {
  // `direct` is validated here (relay-options.js is shared with toResponse,
  // where it has no meaning).
  let wantDirect;
  if (opts !== null && typeof opts === 'object' && Object.hasOwn(opts, 'direct')) {
    if (opts.direct !== undefined && typeof opts.direct !== 'boolean') {
      throw invalidArgument(`Expected a boolean for direct but received ${describe(opts.direct)}`);
    }
    wantDirect = opts.direct;
    opts = { ...opts };
    delete opts.direct;
  }
  const options = relayOptions(opts, 'pipe');
  checkResponse(res);
  if (options.resume !== undefined) return pipeResumable(stream, res, options, wantDirect);
  const relay = new NodeRelay(stream, res, options);
  const direct = directEligible(res, options, wantDirect, true);
  if (direct === 'queued') {
    // Throws INVALID_ARGUMENT when the stream is already consumed, as below.
    stream[kReserve]();
    res.once('socket', () => relay.start(wantDirect));
    relay.begin(false);
    return relay.promise;
  }
  // Throws INVALID_ARGUMENT when the stream is already consumed; nothing has
  // touched `res` yet, so the caller can still answer it.
  stream[kRelay](options.format, relay, relayCommand(relay, res, options, wantDirect, direct));
  relay.begin();
  return relay.promise;
}

/**
 * pipe(res, { resume }): claims the id first (the stream holds its bytes
 * meanwhile, bounded), then relays with sequence numbers from 1, logging
 * every batch; the client leaving no longer ends the stream.
 */
function pipeResumable(stream, res, options, wantDirect) {
  // Throws INVALID_ARGUMENT when the stream is already consumed.
  stream[kReserve]();
  const producer = new ResumeProducer(options.resume, (reason) => stream.abort(reason));
  const relayOpts = { ...options, headers: [producer.header, ...options.headers] };
  const relay = new NodeRelay(stream, res, relayOpts, producer);
  producer.claim(streamMeta(stream[kInfo])).then(
    () => {
      try {
        stream[kRelay](options.format, relay, {
          ...relayCommand(relay, res, relayOpts, wantDirect),
          firstSeq: 1,
          outlivesClient: true,
          reserved: true,
        });
      } catch (err) {
        // Someone read the stream while the claim was in flight.
        producer.finish(err, undefined);
        relay.refuse(err);
        return;
      }
      relay.begin();
    },
    (err) => relay.refuse(err),
  );
  return relay.promise;
}

module.exports = { pipe };

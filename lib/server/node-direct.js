'use strict';

// Direct mode for pipe() (plain HTTP/1.1 only): whether the worker thread
// may write a response's head and body to the client's socket itself, and
// the relay part of the CONSUME command that asks it to (node-relay.js
// writes everything else).
//
// One res.write per token costs the main thread a syscall plus Node's http
// machinery (~30 µs at 1,000 streams × 50 tok/s, where tokens of one stream
// are 20 ms apart and never coalesce).
// When the response is a plain HTTP/1.1 chunked response on a plain TCP
// socket that nobody wraps, pipe() sends the headers through Node as usual,
// then hands the socket's fd to the worker thread, which writes every body
// chunk (`<hex size>\r\n<bytes>\r\n`, Node's own framing), the heartbeats and
// the last-chunk itself (src/output/socket_sink.h) and reports only the
// end. The main thread then ends the response without writing a byte, so
// 'finish' fires and keep-alive reuses the socket as usual. TLS, HTTP/2,
// HEAD, HTTP/1.0, compression() (or anything wrapping res.write), flushMs and
// errorStatus keep Node's writes. `direct: true|false` in the options turns
// it on or off for one response; LLM_RELAY_DIRECT=1 makes it the default,
// LLM_RELAY_DIRECT=0 turns it off everywhere (debugging).
//
// On by default: the bytes on the wire are the same either way (the tests
// compare them); only the chunk boundaries follow the provider's reads
// instead of the main thread's wakeups.
const DIRECT_DEFAULT = true;

const http = require('node:http');
const { heartbeatOf } = require('./relay-writer');
const internals = require('./node-internals');

/**
 * Whether `res` can be written by the worker: a plain-TCP HTTP/1.1 response
 * whose write/end are Node's own (compression() and similar middleware wrap
 * them and must see every byte), still unanswered, owning its socket (a
 * pipelined response waiting for its turn does not), and options that need
 * no JavaScript timing (flushMs, errorStatus).
 * @param {import('node:http').ServerResponse} res
 * @param {object} options pipe()'s options, checked (relay-options.js)
 * @param {boolean | undefined} wanted the `direct` option (undefined: the default)
 * @param {boolean} [queuedOk] answer 'queued' for a response still waiting for its socket
 * @returns {boolean | 'queued'}
 */
function directEligible(res, options, wanted, queuedOk = false) {
  const env = process.env.LLM_RELAY_DIRECT;
  if (env === '0') return false;
  if (!(wanted === undefined ? DIRECT_DEFAULT || env === '1' : wanted)) return false;
  if (options.flushMs !== 0 || options.errorStatus) return false;
  if (res.stream !== undefined || !(res instanceof http.ServerResponse)) return false;
  if (res.write !== http.ServerResponse.prototype.write || res.end !== http.ServerResponse.prototype.end) return false;
  if (typeof res.flush === 'function') return false;
  const req = res.req;
  if (!req || req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1 || req.method === 'HEAD') return false;
  if (res.destroyed || res.writableEnded || res.headersSent) return false;
  const socket = res.socket;
  if (!socket && queuedOk) {
    // A response queued behind its socket's previous one (the client sent
    // this request the moment the last bytes of the previous response
    // arrived, before Node finished that one): the socket comes with the
    // 'socket' event, and so does the choice.
    const conn = req.socket;
    return conn && !conn.destroyed && !conn.encrypted && internals.SUPPORTED ? 'queued' : false;
  }
  if (!socket || socket.destroyed || socket.encrypted) return false;
  if (!internals.ownsSocket(res)) return false;
  // An idle timeout (server.timeout, socket.setTimeout) counts Node's own
  // writes only: with the worker writing, it would cut a healthy stream.
  if (socket.timeout > 0) return false;
  return internals.SUPPORTED && internals.socketFd(socket) >= 0;
}

/**
 * The relay part of the CONSUME command; `direct`: directEligible's answer, if known.
 * @param {import('./node-relay').NodeRelay} relay its attachDirect() runs if the worker is to write
 * @param {import('node:http').ServerResponse} res
 * @param {object} options pipe()'s options, checked
 * @param {boolean | undefined} wantDirect the `direct` option
 * @param {boolean | 'queued'} [direct]
 * @returns {object} heartbeat and `direct` for LLMStream[kRelay]
 */
function relayCommand(relay, res, options, wantDirect, direct = directEligible(res, options, wantDirect)) {
  return {
    // No heartbeat before the headers: with errorStatus they wait for the
    // provider's answer.
    ...heartbeatOf(options, options.errorStatus),
    direct: direct === true ? () => relay.attachDirect() : undefined,
  };
}

module.exports = { directEligible, relayCommand };

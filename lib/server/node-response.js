'use strict';

// What every relay to a Node ServerResponse needs, whoever writes the body:
// pipe() (node.js), a resumed reader (resumed.js) and createRelay()
// (relay.js).

const { RelayError } = require('../errors');

// How long a cut-short response may take to flush its last bytes.
const CUT_SHORT_GRACE_MS = 10_000;

function checkResponse(res, api = 'pipe(res)') {
  if (
    res === null ||
    typeof res !== 'object' ||
    typeof res.write !== 'function' ||
    typeof res.end !== 'function' ||
    typeof res.setHeader !== 'function' ||
    typeof res.on !== 'function'
  ) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `Expected a Node ServerResponse (node:http, Express) for ${api} but received ` +
        (res === null ? 'null' : typeof res),
    );
  }
  if (res.headersSent) {
    throw new RelayError(
      'INVALID_ARGUMENT',
      `${api} needs a response whose headers were not sent yet, but res.headersSent is true`,
    );
  }
}

/**
 * Whether to send `Connection: keep-alive`: only on HTTP/1.1, and only when
 * Node itself means to keep the connection (res.shouldKeepAlive is false when
 * the client sent `Connection: close` or the server stops reusing sockets).
 * A header we set would override that decision and keep a socket open that
 * the client asked to close (RFC 9112 §9.6).
 */
function keepAliveHeader(res) {
  const req = res.req;
  if (!req || req.httpVersion !== '1.1') return false;
  return res.shouldKeepAlive !== false;
}

/**
 * Ends the response without its end: on HTTP/1.1 the socket closes after the
 * bytes already written (Node corks them until the next tick, and destroy()
 * would drop them) but before the terminating zero-length chunk, which every
 * client reports as an incomplete body. Elsewhere (HTTP/2) the stream is reset.
 */
function cutShort(res) {
  const socket = res.socket;
  if (res.stream === undefined && socket && !socket.destroyed && typeof socket.end === 'function') {
    socket.end();
    // A client that does not read would otherwise keep the socket half-open.
    socket.setTimeout(CUT_SHORT_GRACE_MS, () => socket.destroy());
  } else {
    res.destroy();
  }
}

/**
 * Answers with a JSON error before any streaming header went out (a resume
 * claim refused, an unknown stream id): `{"error":{code,message,...}}`.
 * @param {import('node:http').ServerResponse} res
 * @param {{status: number, headers: Array<[string, string]>, body: string}} answer
 * @param {Array<[string, string|string[]]>} [extraHeaders]
 */
function sendAnswer(res, answer, extraHeaders = []) {
  if (res.headersSent || res.destroyed || res.writableEnded) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  for (const [name, value] of answer.headers) res.setHeader(name, value);
  for (const [name, value] of extraHeaders) res.setHeader(name, value);
  res.removeHeader('Content-Length');
  res.writeHead(answer.status);
  res.end(answer.body);
}

module.exports = { checkResponse, keepAliveHeader, cutShort, sendAnswer };

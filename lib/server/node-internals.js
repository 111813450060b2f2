'use strict';

// Every use of Node's private ServerResponse and Socket fields, in one
// place. Direct mode (the worker thread writes the response to the client's
// socket, src/output/socket_sink.h) needs five of them:
//
//   res._header          the response head Node built but has not sent
//   res._headerSent      whether Node sent it (end() writes it when false)
//   res.chunkedEncoding  whether end() frames a last-chunk
//   socket._handle.fd    the descriptor the worker duplicates
//   socket._httpMessage  the response the socket is writing now
//
// They have the same meaning in Node 20, 22 and 24 (the tests run on each).
// A probe at load builds a response the way a server does and checks them;
// where they differ, SUPPORTED is false and every relay keeps Node's own
// writes, which need none of this.

const http = require('node:http');
const { Duplex } = require('node:stream');

function probe() {
  try {
    const socket = new Duplex({
      read() {},
      write(chunk, encoding, callback) {
        callback();
      },
    });
    const req = new http.IncomingMessage(socket);
    req.method = 'POST';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
    const res = new http.ServerResponse(req);
    res.setHeader('Content-Type', 'text/event-stream');
    res.writeHead(200);
    return (
      typeof res._header === 'string' &&
      res._header.startsWith('HTTP/1.1 200') &&
      res._headerSent === false &&
      res.chunkedEncoding === true &&
      typeof res.flushHeaders === 'function'
    );
  } catch {
    return false;
  }
}

/** Whether this Node's internals are the ones direct mode was written for. */
const SUPPORTED = probe();

/**
 * Whether `res` is the response its socket is writing now: a pipelined
 * response waiting for its turn is not (socket._httpMessage).
 */
function ownsSocket(res) {
  return res.socket !== null && res.socket !== undefined && res.socket._httpMessage === res;
}

/** The socket's descriptor, or -1 when it has none we can use. */
function socketFd(socket) {
  const handle = socket && socket._handle;
  return handle && typeof handle.fd === 'number' && handle.fd >= 0 ? handle.fd : -1;
}

/**
 * Takes the head Node built for `res` (after writeHead) so the worker can
 * write it: returns it and marks it sent, or returns null when the response
 * is not in the state direct writes need (chunked framing Node chose, a
 * body allowed, nothing of Node's queued before the worker's bytes).
 */
function takeHead(res) {
  const socket = res.socket;
  if (
    !SUPPORTED ||
    res.chunkedEncoding !== true ||
    res._hasBody === false ||
    typeof res._header !== 'string' ||
    res._headerSent !== false ||
    res.writableLength !== 0 ||
    !socket ||
    socket.writableLength !== 0 ||
    socketFd(socket) < 0
  ) {
    return null;
  }
  // Node's _send() writes the head before the first bytes while _headerSent
  // is false; marking it sent keeps end() from writing it again.
  const head = res._header;
  res._headerSent = true;
  return head;
}

/** Undoes takeHead(): Node writes the head itself (now). */
function giveBackHead(res) {
  res._headerSent = false;
  res.flushHeaders();
}

/**
 * Finishes a response whose body the worker wrote to the end (last-chunk
 * included): without chunkedEncoding, end() with nothing buffered writes
 * nothing and just finishes ('finish', then keep-alive reuse).
 */
function endWrittenResponse(res) {
  res.chunkedEncoding = false;
  res.end();
}

module.exports = { SUPPORTED, ownsSocket, socketFd, takeHead, giveBackHead, endWrittenResponse };

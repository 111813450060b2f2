'use strict';

// Shared by the relay-*.test.js files: a relay server on 127.0.0.1:0 that
// always closes, a stream factory aimed at the mock provider, and raw-socket
// HTTP clients that show exactly what went over the wire and when.

const http = require('node:http');
const net = require('node:net');
const { stream } = require('../../lib');
const { startMockProvider } = require('../../lib/testing');

/**
 * Starts `handler` (a node:http request listener or an Express app) on an
 * ephemeral port. close() destroys every connection, so a stalled test never
 * hangs the teardown.
 */
async function startServer(handler) {
  const server = http.createServer(handler);
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A relay stream from the mock provider. `providerOptions` go to stream().
 */
function mockStream(mock, providerOptions = {}) {
  const provider = providerOptions.provider || 'openai';
  return stream({
    provider,
    baseURL: mock.baseURL(provider),
    apiKey: 'sk-test',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    ...providerOptions,
  });
}

/** Rejects after `ms` so a broken path fails the test instead of hanging it. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends a raw HTTP/1.1 request and returns the socket plus helpers that see
 * the response bytes as they arrive (chunked framing included).
 */
function rawRequest(port, { method = 'POST', path = '/', headers = {}, body = '', keepAlive = false } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  const chunks = [];
  const arrivals = [];
  let received = Buffer.alloc(0);
  let waiters = [];
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    arrivals.push({ at: Date.now(), bytes: chunk.length });
    received = Buffer.concat([received, chunk]);
    const still = [];
    for (const w of waiters) {
      if (received.includes(w.needle)) w.resolve(received.toString('latin1'));
      else still.push(w);
    }
    waiters = still;
  });
  socket.on('error', () => {});
  let closedResolve;
  const closed = new Promise((resolve) => {
    closedResolve = resolve;
  });
  socket.once('close', () => {
    for (const w of waiters) w.reject(new Error(`socket closed before ${JSON.stringify(w.needle)} arrived`));
    waiters = [];
    closedResolve(received.toString('latin1'));
  });
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (!keepAlive) lines.push('Connection: close');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  return {
    socket,
    chunks,
    arrivals,
    closed,
    text: () => received.toString('latin1'),
    /** Resolves with everything received so far once `needle` has arrived. */
    waitFor(needle) {
      if (received.includes(needle)) return Promise.resolve(received.toString('latin1'));
      if (socket.destroyed) return Promise.reject(new Error(`socket closed before ${JSON.stringify(needle)} arrived`));
      return new Promise((resolve, reject) => waiters.push({ needle, resolve, reject }));
    },
  };
}

/**
 * Splits a raw HTTP/1.1 response into status, lower-cased headers, the
 * de-chunked body, whether the body was complete and how many chunks it had.
 */
function parseRawResponse(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = raw.slice(split + 4);
  let body = '';
  let complete = false;
  let chunks = 0;
  if (headers['transfer-encoding'] === 'chunked') {
    for (;;) {
      const eol = rest.indexOf('\r\n');
      if (eol < 0) break;
      const size = parseInt(rest.slice(0, eol), 16);
      if (size === 0) {
        complete = true;
        break;
      }
      if (rest.length < eol + 2 + size + 2) break;
      body += rest.slice(eol + 2, eol + 2 + size);
      chunks++;
      rest = rest.slice(eol + 2 + size + 2);
    }
  } else {
    body = rest;
    complete =
      headers['content-length'] === undefined || Buffer.byteLength(body, 'latin1') >= Number(headers['content-length']);
  }
  // The body went over the wire as UTF-8; the socket bytes were kept as latin1.
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), complete, chunks };
}

/**
 * A raw HTTP/1.1 client that reads until the first token arrived, then stops
 * reading for good (a browser tab that froze): the relay's backpressure case.
 * `readToEnd(ms)` starts reading again and resolves with everything received
 * once the response closed.
 */
async function stalledReader(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  const received = [];
  let receivedBytes = 0;
  const onData = (chunk) => {
    received.push(chunk);
    receivedBytes += chunk.length;
  };
  await within(
    new Promise((resolve) => {
      socket.on('data', (chunk) => {
        onData(chunk);
        if (Buffer.concat(received).includes('"type":"text"')) {
          socket.pause();
          resolve();
        }
      });
    }),
    5000,
    'the first token',
  );
  socket.removeAllListeners('data');
  return {
    socket,
    bytes: () => receivedBytes,
    async readToEnd(timeoutMs) {
      socket.on('data', onData);
      socket.resume();
      await within(new Promise((resolve) => socket.once('close', resolve)), timeoutMs, 'the rest of the response');
      return Buffer.concat(received).toString('latin1');
    },
  };
}

module.exports = {
  startServer,
  startMockProvider,
  mockStream,
  within,
  sleep,
  rawRequest,
  parseRawResponse,
  stalledReader,
};

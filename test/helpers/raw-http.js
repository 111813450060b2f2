'use strict';

// A raw HTTP/1.1 client over node:net that keeps what higher-level clients hide: the exact header
// block and the size of every chunk of a chunked body. A chunk of a chunked body is one write on the
// server side, so chunk sizes show how the server split its writes however TCP coalesced them.

const net = require('node:net');

/**
 * Decodes a chunked transfer-encoded body.
 * @param {Buffer} raw the bytes after the header block
 * @returns {{chunks: Buffer[], complete: boolean}} complete is true when the terminating 0-size chunk was seen
 */
function decodeChunked(raw) {
  const chunks = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return { chunks, complete: false };
    const size = parseInt(raw.toString('latin1', offset, lineEnd).split(';')[0], 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size line at byte ${offset}`);
    if (size === 0) return { chunks, complete: true };
    const start = lineEnd + 2;
    if (start + size + 2 > raw.length) return { chunks, complete: false };
    chunks.push(raw.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/**
 * Sends one request with `Connection: close` and collects the whole response.
 * @param {{port: number, host?: string, method?: string, path: string, headers?: object, body?: string|object}} req
 * @returns {Promise<{status: number, headers: object, headerBlock: string, chunks: Buffer[], body: Buffer, complete: boolean, error?: Error}>}
 */
function rawRequest({ port, host = '127.0.0.1', method = 'POST', path, headers = {}, body = '' }) {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Connection: close',
    `Content-Length: ${payload.length}`,
  ];
  if (typeof body !== 'string') lines.push('Content-Type: application/json');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const received = [];
    let error;
    socket.on('data', (d) => received.push(d));
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('close', () => {
      const raw = Buffer.concat(received);
      const split = raw.indexOf('\r\n\r\n');
      if (split < 0) return reject(error || new Error('connection closed before the response headers'));
      const headerBlock = raw.toString('latin1', 0, split);
      const [statusLine, ...headerLines] = headerBlock.split('\r\n');
      const responseHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        responseHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = raw.subarray(split + 4);
      const chunked = /chunked/i.test(responseHeaders['transfer-encoding'] || '');
      const { chunks, complete } = chunked ? decodeChunked(rest) : { chunks: [rest], complete: true };
      return resolve({
        status: Number(statusLine.split(' ')[1]),
        headers: responseHeaders,
        headerBlock,
        chunks,
        body: Buffer.concat(chunks),
        complete,
        error,
      });
    });
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    socket.write(payload);
  });
}

module.exports = { rawRequest, decodeChunked };

'use strict';

// Shared by the fault suite (test/faults/*.test.js, listed in docs/faults.md):
// small helpers that turn a fault into something a test can assert on, each
// bounded in time so a regression fails instead of hanging.

const net = require('node:net');
const { stream } = require('../..');

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

/** The RelayError `fn` throws synchronously (fails the test when it does not throw). */
function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a synchronous throw');
}

/** Reads `s` with for await and returns the error it fails with. */
async function failure(s) {
  try {
    for await (const d of s) void d;
  } catch (err) {
    return err;
  }
  throw new Error('the stream did not fail');
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
 * A raw TCP server on 127.0.0.1:0 whose `onConnection(socket, request)` gets
 * each connection after the request head (and body, by Content-Length) was
 * read. `connections` records every socket with its request and whether it
 * closed; close() destroys them all.
 */
async function rawServer(onConnection) {
  const connections = [];
  const server = net.createServer((socket) => {
    const entry = { socket, request: '', closed: undefined };
    entry.closed = new Promise((resolve) => socket.once('close', resolve));
    connections.push(entry);
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (started || end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const length = Number((/\r\ncontent-length: *(\d+)/i.exec(head) || [])[1] || 0);
      if (buf.length < end + 4 + length) return;
      started = true;
      entry.request = buf.toString('latin1');
      onConnection(socket, entry.request, entry);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    close() {
      for (const c of connections) c.socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** An openai stream aimed at `baseURL`, no retries unless asked. */
function openaiAt(baseURL, extra = {}) {
  return stream({ provider: 'openai', baseURL, apiKey: 'sk-fault-suite-key-0123456789', body, retry: false, ...extra });
}

module.exports = { body, thrown, failure, within, sleep, rawServer, openaiAt };

'use strict';
// One system under test: an Express 5 app relaying GET /chat?k=<mock knobs> to the
// mock provider with the chosen variant, in the shared downstream SSE format.
// Started by run.js as: taskset -c 0 node -r harness/probe.js sut/server.js
//   --variant NAME --mock http://127.0.0.1:PORT
// Tells the runner over IPC: { type: 'ready', port } or { type: 'unavailable', reason }.
const express = require('express');
const { getVariant } = require('./variants');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function send(msg) {
  if (typeof process.send === 'function') process.send(msg);
  else console.log(JSON.stringify(msg));
}

const DEFAULT_KNOBS = 'tokens=150,pace_us=20000';

async function main() {
  const variant = getVariant(arg('variant'));
  const ctx = { mockOrigin: arg('mock') };
  let impl;
  try {
    impl = await variant.create(ctx);
  } catch (err) {
    send({ type: 'unavailable', reason: String(err && err.message ? err.message : err) });
    setTimeout(() => process.exit(0), 50);
    return;
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/chat', (req, res) => {
    const knobs = typeof req.query.k === 'string' ? req.query.k : DEFAULT_KNOBS;
    impl.handle(req, res, knobs);
  });
  const server = app.listen(Number(arg('port', 0)), '127.0.0.1', (err) => {
    if (err) {
      send({ type: 'unavailable', reason: `listen failed: ${err.message}` });
      process.exit(1);
    }
    send({ type: 'ready', port: server.address().port, pid: process.pid, warnings: impl.warnings || [] });
  });
  // Keep downstream connections across streams (the load client reuses them).
  server.keepAliveTimeout = 120000;
  server.headersTimeout = 125000;
  server.requestTimeout = 0;
}

main().catch((err) => {
  send({ type: 'unavailable', reason: `server crashed: ${err && err.message}` });
  process.exit(1);
});

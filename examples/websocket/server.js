'use strict';

/**
 * llm-relay over a WebSocket: an Express 5 app with a chat page and a `ws` WebSocket server.
 *
 *   node examples/websocket/server.js        # http://127.0.0.1:3001 (PORT to change)
 *
 * One socket carries the whole conversation. The page sends {"messages": [...]} to ask; the server
 * answers with `stream({...}).pipeWebSocket(ws)`: one JSON message per delta, then
 * {"type":"done"}. The page's Stop sends {"type":"stop"}, and sending a new message while an answer
 * is streaming interrupts it the same way and asks again: the provider request of the interrupted
 * answer is aborted at once, and its last messages never mix with the new answer's.
 *
 * Provider: as examples/express (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, else the
 * built-in mock provider).
 */

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const express = require('express');
const { WebSocketServer } = require('ws');
const { stream } = require('llm-relay');
const { chooseProvider, cleanMessages, mockScript } = require('../express/server.js');

const CLIENT_DIR = path.dirname(require.resolve('llm-relay/client'));
// A chat request is small; anything bigger is not one.
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * Handles one socket: each chat request starts an answer relayed with pipeWebSocket. A request
 * that arrives while an answer is streaming stops that answer first (pipeWebSocket does it).
 */
function onConnection(ws, provider, log) {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let request;
    try {
      request = JSON.parse(data.toString());
    } catch {
      request = undefined;
    }
    // {"type":"stop"} is for the relay in flight, which listens for it itself.
    if (request && request.type === 'stop') return;
    const messages = cleanMessages(request && request.messages);
    if (!messages) {
      ws.send(
        JSON.stringify({
          type: 'error',
          code: 'INVALID_ARGUMENT',
          message: 'Expected {"messages": [{ role, content }, …]} ending with a user message',
        }),
      );
      return;
    }
    // Synchronously, in this handler: a stop sent right after the request is then never missed.
    stream(provider.options(messages))
      .pipeWebSocket(ws)
      .then(
        (summary) => log(`ws chat: ${summary.metrics.deltas} deltas in ${Math.round(summary.metrics.durationMs)} ms`),
        (err) => log(err.code === 'ABORTED' ? `ws chat: ${err.message}` : `ws chat: ${err.code}: ${err.message}`),
      );
  });
}

/**
 * Starts the example. With no key in the environment (or `mock: true`) it starts the mock provider.
 * @param {{ port?: number, host?: string, mock?: boolean, mockScript?: Function|object, env?: NodeJS.ProcessEnv, log?: (line: string) => void }} [opts]
 */
async function start(opts = {}) {
  const env = opts.env || process.env;
  const log = opts.log || console.log;
  const host = opts.host || '127.0.0.1';
  const port = opts.port !== undefined ? opts.port : Number(env.PORT || 3001);

  let mock;
  let provider = opts.mock ? undefined : chooseProvider(env);
  if (!provider) {
    const { startMockProvider } = require('llm-relay/testing');
    mock = await startMockProvider({ provider: 'openai', script: opts.mockScript || mockScript });
    provider = chooseProvider(env, mock);
  }

  const app = express();
  app.disable('x-powered-by');
  const page = fs.readFileSync(path.join(__dirname, 'public', 'index.html'), 'utf8');
  app.get('/', (req, res) => res.type('html').set('Cache-Control', 'no-cache').send(page));
  app.use(
    '/llm-relay/client',
    express.static(CLIENT_DIR, {
      index: false,
      setHeaders: (res) => res.set('Content-Type', 'text/javascript; charset=utf-8').set('Cache-Control', 'no-cache'),
    }),
  );

  const server = http.createServer(app);
  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: MAX_MESSAGE_BYTES });
  wss.on('connection', (ws) => onConnection(ws, provider, log));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;

  let closing;
  const close = () => {
    if (!closing) {
      closing = (async () => {
        // Closing each socket aborts its answer in flight (pipeWebSocket sees the close).
        for (const ws of wss.clients) ws.terminate();
        await new Promise((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise((resolve) => server.close(() => resolve()));
        if (mock) await mock.close();
      })();
    }
    return closing;
  };

  return {
    url: `http://${host}:${actualPort}/`,
    wsUrl: `ws://${host}:${actualPort}/ws`,
    port: actualPort,
    server,
    mock,
    providerLabel: provider.label,
    close,
  };
}

module.exports = { start };

if (require.main === module) {
  start().then(
    (demo) => {
      console.log(`llm-relay WebSocket example (${demo.providerLabel}) on ${demo.url}`);
      process.once('SIGINT', () => demo.close().then(() => process.exit(0)));
      process.once('SIGTERM', () => demo.close().then(() => process.exit(0)));
    },
    (err) => {
      console.error(err.code === 'EADDRINUSE' ? `Port ${err.port} is in use: set PORT to another one.` : err);
      process.exit(1);
    },
  );
}

'use strict';

/**
 * The llm-relay demo: an Express 5 app with a chat page and one streaming route.
 *
 *   node examples/express/server.js          # http://127.0.0.1:3000 (PORT to change)
 *
 * Provider: OPENAI_API_KEY → OpenAI, else ANTHROPIC_API_KEY → Anthropic, else GEMINI_API_KEY →
 * Gemini, else the built-in mock provider (llm-relay/testing) started in this process, so the demo
 * works offline with no key at all.
 *
 * The whole relay is `stream({...}).pipe(res)`: it sets the SSE headers (X-Accel-Buffering: no
 * included, so nginx does not buffer), sends heartbeats, reports a late error as an SSE event, and
 * aborts the provider request when the browser disconnects (the page's Stop button).
 */

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const express = require('express');
// Self-reference: inside this repository 'llm-relay' resolves to the package itself, exactly as it
// does for an app that installed it.
const { stream } = require('llm-relay');

const PUBLIC_DIR = path.join(__dirname, 'public');
// The browser client as the package ships it (plain ES modules, no bundler):
// the page imports 'llm-relay/client' through an import map pointing here.
const CLIENT_DIR = path.dirname(require.resolve('llm-relay/client'));

// Bounds on what a browser may send: a chat history, not an arbitrary upstream request.
const MAX_MESSAGES = 40;
const MAX_MESSAGE_CHARS = 8000;

const MOCK_ANSWER =
  'This answer comes from the built-in mock provider, streamed token by token through llm-relay. ' +
  'The native engine reads the provider stream on a worker thread, parses it there, and the Express ' +
  'route relays it to this page with one call: stream(...).pipe(res). Press Stop at any time: the ' +
  'browser aborts its fetch, the server sees the disconnect and closes the upstream request at once. ' +
  'Set OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY to talk to a real model instead.';

/**
 * The mock provider's script: echoes the start of the last user message, then a fixed answer at a
 * pace a person can watch (about 45 ms per token, as a fast model feels).
 * @param {{ body?: { messages?: { role: string, content: string }[] } }} request
 */
function mockScript(request) {
  const messages = request.body && Array.isArray(request.body.messages) ? request.body.messages : [];
  const last = [...messages].reverse().find((m) => m && m.role === 'user');
  const said = last && typeof last.content === 'string' ? last.content.replace(/\s+/g, ' ').trim() : '';
  const echo = said.length > 60 ? `${said.slice(0, 57)}…` : said;
  return { tokens: `You said: “${echo}”. ${MOCK_ANSWER}`, ttftMs: 350, delayMs: 45 };
}

/**
 * How to call the chosen provider: a name for the page and a function from the chat history to
 * stream() options.
 * @param {NodeJS.ProcessEnv} env
 * @param {import('llm-relay/testing').MockProvider} [mock] forces the mock when given
 */
function chooseProvider(env, mock) {
  if (mock) {
    return {
      label: 'mock provider',
      options: (messages) => ({
        provider: 'openai',
        baseURL: mock.baseURL('openai'),
        // A placeholder, so a real key from the environment is never sent to the mock.
        apiKey: 'mock-key',
        body: { model: 'gpt-4o-mini', messages },
      }),
    };
  }
  if (env.OPENAI_API_KEY) {
    const model = env.OPENAI_MODEL || 'gpt-4o-mini';
    return { label: `OpenAI ${model}`, options: (messages) => ({ provider: 'openai', body: { model, messages } }) };
  }
  if (env.ANTHROPIC_API_KEY) {
    const model = env.ANTHROPIC_MODEL || 'claude-haiku-4-5';
    return {
      label: `Anthropic ${model}`,
      options: (messages) => ({ provider: 'anthropic', body: { model, max_tokens: 1024, messages } }),
    };
  }
  if (env.GEMINI_API_KEY) {
    const model = env.GEMINI_MODEL || 'gemini-2.5-flash';
    return {
      label: `Gemini ${model}`,
      options: (messages) => ({
        provider: 'gemini',
        model,
        body: {
          contents: messages.map((m) => ({
            role: m.role === 'assistant' ? 'model' : 'user',
            parts: [{ text: m.content }],
          })),
        },
      }),
    };
  }
  return undefined;
}

/**
 * Keeps only what a chat page legitimately sends: the last MAX_MESSAGES user/assistant turns with
 * string content. Returns undefined when nothing usable is left.
 */
function cleanMessages(input) {
  if (!Array.isArray(input)) return undefined;
  const out = [];
  for (const m of input.slice(-MAX_MESSAGES)) {
    if (!m || (m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string') return undefined;
    const content = m.content.slice(0, MAX_MESSAGE_CHARS);
    if (content.trim() !== '') out.push({ role: m.role, content });
  }
  return out.length > 0 && out[out.length - 1].role === 'user' ? out : undefined;
}

/**
 * Builds the Express app.
 * @param {{ label: string, options: (messages: object[]) => object }} provider from chooseProvider
 * @param {{ log?: (line: string) => void }} [opts]
 */
function createApp(provider, { log = console.log } = {}) {
  const app = express();
  app.disable('x-powered-by');
  const page = fs
    .readFileSync(path.join(PUBLIC_DIR, 'index.html'), 'utf8')
    .replace('%PROVIDER%', escapeHtml(provider.label));

  app.get('/', (req, res) => {
    res.type('html').set('Cache-Control', 'no-cache').send(page);
  });
  // The browser client is plain ESM with no dependencies: served as is, no bundler.
  app.use(
    '/llm-relay/client',
    express.static(CLIENT_DIR, {
      index: false,
      setHeaders: (res) => res.set('Content-Type', 'text/javascript; charset=utf-8').set('Cache-Control', 'no-cache'),
    }),
  );

  app.post('/api/chat', express.json({ limit: '256kb' }), async (req, res) => {
    const messages = cleanMessages(req.body && req.body.messages);
    if (!messages) {
      res.status(400).json({
        error: 'Expected { messages: [{ role: "user" | "assistant", content: string }, …] } ending with a user message',
      });
      return;
    }
    let s;
    try {
      s = stream(provider.options(messages));
    } catch (err) {
      // Bad options (INVALID_ARGUMENT): a server configuration problem, not the browser's.
      log(`chat: ${err.code || err.name}: ${err.message}`);
      res.status(500).json({ error: 'The server could not start the model request' });
      return;
    }
    try {
      const summary = await s.pipe(res);
      const m = summary.metrics;
      log(`chat: ${m.deltas} deltas, first token ${Math.round(m.ttftMs)} ms, ${Math.round(m.durationMs)} ms in all`);
    } catch (err) {
      // pipe() has already told the browser (an SSE error event) and ended the response; a Stop
      // click arrives here as ABORTED, and the provider request is closed by then.
      log(
        err.code === 'ABORTED'
          ? 'chat: stopped by the browser; upstream request closed'
          : `chat: ${err.code}: ${err.message}`,
      );
    }
  });

  // Malformed JSON and oversized bodies: a short JSON answer instead of Express's HTML page with
  // a stack trace.
  app.use((err, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log(`error: ${err.stack || err}`);
    res.status(status).json({ error: status === 500 ? 'Internal error' : err.message });
  });

  return app;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Starts the demo. With no key in the environment (or `mock: true`) it starts the mock provider too.
 * @param {{ port?: number, host?: string, mock?: boolean, mockScript?: Function|object, env?: NodeJS.ProcessEnv, log?: (line: string) => void, extend?: (app: import('express').Express) => void }} [opts]
 *   port defaults to PORT or 3000 (0 picks a free port); host to 127.0.0.1; extend adds routes
 *   (examples/metrics adds /metrics).
 * @returns {Promise<{ url: string, port: number, server: import('node:http').Server, mock?: import('llm-relay/testing').MockProvider, providerLabel: string, close: () => Promise<void> }>}
 */
async function start(opts = {}) {
  const env = opts.env || process.env;
  const log = opts.log || console.log;
  const host = opts.host || '127.0.0.1';
  const port = opts.port !== undefined ? opts.port : Number(env.PORT || 3000);

  let mock;
  let provider = opts.mock ? undefined : chooseProvider(env);
  if (!provider) {
    const { startMockProvider } = require('llm-relay/testing');
    mock = await startMockProvider({ provider: 'openai', script: opts.mockScript || mockScript });
    provider = chooseProvider(env, mock);
  }

  const app = createApp(provider, { log });
  if (opts.extend) opts.extend(app);
  const server = http.createServer(app);
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
        const closed = new Promise((resolve) => server.close(() => resolve()));
        // Open streams end now: the relay sees each disconnect and aborts its provider request.
        server.closeAllConnections();
        await closed;
        if (mock) await mock.close();
      })();
    }
    return closing;
  };

  return { url: `http://${host}:${actualPort}/`, port: actualPort, server, mock, providerLabel: provider.label, close };
}

module.exports = { start, createApp, chooseProvider, cleanMessages, mockScript };

if (require.main === module) {
  start().then(
    (demo) => {
      console.log(`llm-relay demo (${demo.providerLabel}) on ${demo.url}`);
      console.log('Press Ctrl+C to stop.');
      const shutdown = (signal) => {
        console.log(`\n${signal}: closing…`);
        demo.close().then(() => process.exit(0));
        // A second Ctrl+C leaves at once.
        process.once(signal, () => process.exit(130));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (err) => {
      console.error(err.code === 'EADDRINUSE' ? `Port ${err.port} is in use: set PORT to another one.` : err);
      process.exit(1);
    },
  );
}

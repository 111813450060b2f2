'use strict';

/**
 * Answers that outlive a connection, on as many instances as you like behind a proxy
 * (examples/resume/nginx.conf runs two).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=3001 node examples/resume/server.js
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=3002 node examples/resume/server.js
 *
 * Routes:
 *   POST /api/chat              { id, messages }: starts the answer for chat `id` (SSE, every event
 *                               with an id); it keeps generating if the client leaves
 *   GET  /api/chat/:id/stream   the rest of it, after the Last-Event-ID header (all without it), on
 *                               any instance; EventSource sends that header by itself
 *   POST /api/chat/:id/stop     stops the answer, whichever instance produces it
 *
 * Without REDIS_URL the store is in this process's memory (one instance). The provider is OpenAI
 * (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL). Each response says which instance served it in
 * `x-served-by` (INSTANCE, default the port), so you can watch the proxy alternate.
 */

const http = require('node:http');
const express = require('express');
// Self-reference: inside this repository 'llm-relay' resolves to the package itself.
const { stream, createMemoryStore, createRedisStore } = require('llm-relay');

function createApp({ store, model, instance }) {
  const app = express();
  app.use((req, res, next) => {
    res.setHeader('x-served-by', instance);
    next();
  });

  app.post('/api/chat', express.json(), (req, res) => {
    const { id, messages } = req.body || {};
    try {
      const s = stream({ provider: 'openai', body: { model, messages } });
      // 409 if this chat already has an answer in flight (resume it instead); abandoned after
      // 10 minutes without anyone reading it.
      s.pipe(res, { resume: { store, id, abandonAfterMs: 10 * 60_000 } }).catch(() => {});
    } catch (err) {
      res.status(400).json({ error: { code: err.code, message: err.message } }); // e.g. a bad id
    }
  });

  app.get('/api/chat/:id/stream', (req, res) => {
    store
      .resume(req.params.id, { lastEventId: req.get('last-event-id') })
      .pipe(res)
      .catch(() => {});
  });

  app.post('/api/chat/:id/stop', async (req, res) => {
    res.json({ stopped: await store.stop(req.params.id) });
  });

  return app;
}

/**
 * @param {{ port?: number, env?: NodeJS.ProcessEnv }} [opts]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
async function start(opts = {}) {
  const env = opts.env || process.env;
  const store = env.REDIS_URL ? createRedisStore({ url: env.REDIS_URL }) : createMemoryStore();
  const port = opts.port !== undefined ? opts.port : Number(env.PORT || 3000);
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  server.on(
    'request',
    createApp({ store, model: env.OPENAI_MODEL || 'gpt-4o-mini', instance: env.INSTANCE || String(actual) }),
  );
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    },
  };
}

module.exports = { createApp, start };

if (require.main === module) {
  start().then(
    ({ url }) => console.log(`listening on ${url}`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

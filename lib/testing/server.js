'use strict';

// The mock provider's server: HTTP/1.1, HTTPS, h2c or h2 over TLS; the request log; and a close()
// that always finishes because it destroys every connection it ever accepted.

const http = require('node:http');
const https = require('node:https');
const http2 = require('node:http2');
const { handleRequest } = require('./handler');
const { normalizeScenario, PROVIDERS } = require('./scenario');
const { BASE_PATHS, endpointPath } = require('./formats');
const { getTestCertificates } = require('./tls');
const { DEFAULT_DIR } = require('./fixtures');

const kState = Symbol('mockProviderState');
const OPTION_KEYS = new Set(['provider', 'script', 'tls', 'http2', 'host', 'port', 'fixturesDir']);
const CLOSE_FALLBACK_MS = 2000;
const DEFAULT_WAIT_MS = 5000;

function noop() {}

function validateOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(
      `startMockProvider: expected an options object but received ${options === null ? 'null' : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key))
      throw new TypeError(
        `startMockProvider: unknown option ${JSON.stringify(key)}; expected one of ${[...OPTION_KEYS].join(', ')}`,
      );
  }
  const { provider, tls, host, port } = options;
  if (provider !== undefined && !PROVIDERS.includes(provider)) {
    throw new TypeError(
      `startMockProvider: expected provider to be one of ${PROVIDERS.join(', ')} but received ${JSON.stringify(provider)}`,
    );
  }
  if (
    tls !== undefined &&
    typeof tls !== 'boolean' &&
    (tls === null || typeof tls !== 'object' || !tls.key || !tls.cert)
  ) {
    throw new TypeError('startMockProvider: expected tls to be true, false or { key, cert } (PEM strings or Buffers)');
  }
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean') {
    throw new TypeError(`startMockProvider: expected http2 to be a boolean but received ${typeof options.http2}`);
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    throw new TypeError(
      `startMockProvider: expected host to be a non-empty string but received ${JSON.stringify(host)}`,
    );
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(
      `startMockProvider: expected port to be an integer from 0 to 65535 but received ${JSON.stringify(port)}`,
    );
  }
  if (options.fixturesDir !== undefined && typeof options.fixturesDir !== 'string') {
    throw new TypeError('startMockProvider: expected fixturesDir to be a string path');
  }
  const { script } = options;
  if (typeof script === 'function') return script;
  if (Array.isArray(script)) {
    const scenarios = script.map((s, i) => normalizeScenario(s, `script[${i}]`));
    return scenarios.length > 0 ? scenarios : [normalizeScenario({})];
  }
  return [normalizeScenario(script, 'script')];
}

function createServer(useTls, useHttp2, credentials, onRequest) {
  if (useHttp2 && useTls) {
    // allowHTTP1 keeps HTTP/1.1 clients working; ALPN picks h2 for clients that offer it.
    return http2.createSecureServer({ key: credentials.key, cert: credentials.cert, allowHTTP1: true }, onRequest);
  }
  if (useHttp2) return http2.createServer(onRequest); // h2c with prior knowledge only
  if (useTls) return https.createServer({ key: credentials.key, cert: credentials.cert }, onRequest);
  return http.createServer(onRequest);
}

// Every open response listens on the mock-wide abort signal; hundreds of
// concurrent requests are normal here, so lift Node's 10-listener warning.
function unlimitedAbortController() {
  const controller = new AbortController();
  require('node:events').setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * A running mock provider. Create it with `startMockProvider()`.
 */
class MockProvider {
  constructor(state) {
    this[kState] = state;
    /** Every request received, in arrival order (see testing.d.ts MockRequest). */
    this.requests = state.requests;
    /** PEM of the CA that signed the server certificate, when `tls` is on (undefined otherwise). */
    this.ca = state.ca;
    /** 'http://127.0.0.1:PORT' (or https): the server's origin, without any path. */
    this.origin = state.origin;
    /** The port the server listens on. */
    this.port = state.port;
  }

  /**
   * The base URL for the `provider` option when one was given (e.g. 'http://127.0.0.1:PORT/v1' for
   * openai), otherwise the origin.
   */
  get url() {
    return this[kState].provider ? this.baseURL(this[kState].provider) : this.origin;
  }

  /**
   * The base URL a client of `provider` should be configured with, so that the client's own path lands
   * on the mock's endpoint: openai / openai-responses / openai-completions → origin + '/v1';
   * anthropic → origin (client adds /v1/messages); gemini → origin + '/v1beta'; ollama → origin;
   * sse → origin.
   * @param {string} [provider] defaults to the `provider` option
   */
  baseURL(provider = this[kState].provider) {
    if (provider === undefined) return this.origin;
    if (!(provider in BASE_PATHS))
      throw new TypeError(`baseURL: expected one of ${PROVIDERS.join(', ')} but received ${JSON.stringify(provider)}`);
    return this.origin + BASE_PATHS[provider];
  }

  /**
   * The full URL of `provider`'s streaming endpoint, e.g. origin + '/v1/chat/completions', or for
   * gemini origin + '/v1beta/models/{model}:streamGenerateContent?alt=sse'; sse → origin + '/sse'.
   * @param {string} [provider] defaults to the `provider` option, else 'sse'
   * @param {string} [model] gemini only: the model in the path (default 'gemini-2.5-flash')
   */
  endpoint(provider = this[kState].provider || 'sse', model) {
    return this.origin + endpointPath(provider, model);
  }

  /**
   * Resolves with `mock.requests` once at least `n` requests have arrived (bodies read); rejects after
   * `timeoutMs` (default 5000) or if the mock closes first.
   * @param {number} n
   * @param {number} [timeoutMs]
   */
  waitForRequests(n, timeoutMs = DEFAULT_WAIT_MS) {
    const state = this[kState];
    if (!Number.isInteger(n) || n < 0)
      return Promise.reject(new TypeError(`waitForRequests: expected a non-negative integer but received ${n}`));
    if (state.requests.length >= n) return Promise.resolve(state.requests);
    if (state.closing)
      return Promise.reject(
        new Error(
          `waitForRequests: the mock provider is closed and received ${state.requests.length} of ${n} requests`,
        ),
      );
    return new Promise((resolve, reject) => {
      const waiter = { n, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        state.waiters.delete(waiter);
        reject(
          new Error(
            `waitForRequests: expected ${n} requests within ${timeoutMs} ms but received ${state.requests.length}`,
          ),
        );
      }, timeoutMs);
      waiter.timer.unref();
      state.waiters.add(waiter);
    });
  }

  /**
   * Stops the server: aborts every scripted response (stalls and hangs included), destroys every open
   * connection and session, clears every timer. Always finishes; calling it again returns the same
   * promise.
   * @returns {Promise<void>}
   */
  close() {
    const state = this[kState];
    if (state.closing) return state.closing;
    state.abort.abort();
    for (const waiter of state.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(
        new Error(`waitForRequests: the mock provider closed after ${state.requests.length} of ${waiter.n} requests`),
      );
    }
    state.waiters.clear();
    state.closing = new Promise((resolve) => {
      let timer;
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // Should the server never report 'close', do not hang the caller's test teardown.
      timer = setTimeout(done, CLOSE_FALLBACK_MS);
      timer.unref();
      state.server.close(done);
      for (const session of state.sessions) session.destroy();
      for (const socket of state.sockets) socket.destroy();
      if (typeof state.server.closeAllConnections === 'function') state.server.closeAllConnections();
    });
    return state.closing;
  }
}

/**
 * Starts a scripted mock LLM provider on a local port. See testing.d.ts for the full contract.
 * @param {import('../../testing').MockProviderOptions} [options]
 * @returns {Promise<MockProvider>}
 */
async function startMockProvider(options = {}) {
  const script = validateOptions(options);
  const useTls = Boolean(options.tls);
  let credentials;
  let ca;
  if (options.tls === true) {
    credentials = await getTestCertificates();
    ca = credentials.ca;
  } else if (useTls) {
    credentials = options.tls;
    ca = options.tls.ca === undefined ? undefined : String(options.tls.ca);
  }

  const state = {
    provider: options.provider,
    fixturesDir: options.fixturesDir || DEFAULT_DIR,
    requests: [],
    waiters: new Set(),
    sockets: new Set(),
    sessions: new Set(),
    abort: unlimitedAbortController(),
    closing: undefined,
    server: undefined,
    ca,
  };

  // What the request handler may use; kept off the public object.
  const host = {
    signal: state.abort.signal,
    provider: state.provider,
    fixturesDir: state.fixturesDir,
    record(record) {
      record.n = state.requests.length;
      state.requests.push(record);
      for (const waiter of state.waiters) {
        if (state.requests.length >= waiter.n) {
          clearTimeout(waiter.timer);
          state.waiters.delete(waiter);
          waiter.resolve(state.requests);
        }
      }
    },
    async scenarioFor(record) {
      if (typeof script === 'function')
        return normalizeScenario(await script(record, record.n), `script(request ${record.n})`);
      return script[Math.min(record.n, script.length - 1)];
    },
  };

  const onRequest = (req, res) => {
    req.on('error', noop);
    res.on('error', noop);
    handleRequest(host, req, res).catch((err) => {
      // A bug in the mock or a header node refuses (e.g. an invalid scripted header): answer 500 if
      // still possible, else drop the response; never let it become an unhandled rejection.
      try {
        if (res.headersSent || res.destroyed) throw err;
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`llm-relay mock provider: ${err && err.message}\n`);
      } catch {
        res.destroy();
      }
    });
  };

  const server = createServer(useTls, Boolean(options.http2), credentials, onRequest);
  state.server = server;
  const track = (socket) => {
    state.sockets.add(socket);
    socket.on('error', noop);
    socket.once('close', () => state.sockets.delete(socket));
  };
  server.on('connection', track);
  if (useTls) server.on('secureConnection', track);
  server.on('session', (session) => {
    state.sessions.add(session);
    session.on('error', noop);
    session.once('close', () => state.sessions.delete(session));
  });
  server.on('clientError', (err, socket) => socket.destroy());

  const listenHost = options.host || '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port || 0, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', noop);

  const { port } = server.address();
  state.port = port;
  state.origin = `${useTls ? 'https' : 'http'}://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
  return new MockProvider(state);
}

module.exports = { startMockProvider, MockProvider };

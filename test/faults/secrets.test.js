'use strict';

// Credentials never travel in what an error or a diagnostics record carries,
// nor in the in-band error event a relay sends to the browser, even when the
// provider echoes them (issue 9, item 2).

const util = require('node:util');
const diagnostics = require('node:diagnostics_channel');
const { stream } = require('../..');
const { startMockProvider } = require('../../lib/testing');
const { body, failure } = require('./helpers');

const KEY = 'sk-proj-Abc123/def+456=ghiJKLmnoPQRstu';
const HEADER_TOKEN = 'hdr-token-Zyx987wvu654';
const GOOG_KEY = 'AIzaSyD-fault-suite-key-0000';
const QUERY_KEY = 'query-key-Qwe321rty';

let mock;
let current = {};
beforeAll(async () => {
  mock = await startMockProvider({ script: () => current });
});
afterAll(() => mock.close());

/** Everything a user could print or log about an error. */
function everything(err) {
  return [
    err.message,
    err.stack,
    err.body,
    JSON.stringify(err.headers),
    JSON.stringify(err),
    util.inspect(err, { depth: 10 }),
    err.cause ? util.inspect(err.cause) : '',
  ].join('\n');
}

function expectNoSecret(text) {
  for (const secret of [
    KEY,
    encodeURIComponent(KEY),
    JSON.stringify(KEY).slice(1, -1).replace(/\//g, '\\/'),
    HEADER_TOKEN,
    GOOG_KEY,
    QUERY_KEY,
  ]) {
    expect(text).not.toContain(secret);
  }
}

/** Collects the diagnostics records of the streams started inside `fn`. */
async function recorded(fn) {
  const records = [];
  const onStart = (m) => records.push(m);
  const onEnd = (m) => records.push(m);
  diagnostics.subscribe('llm-relay:stream:start', onStart);
  diagnostics.subscribe('llm-relay:stream:end', onEnd);
  try {
    await fn();
  } finally {
    diagnostics.unsubscribe('llm-relay:stream:start', onStart);
    diagnostics.unsubscribe('llm-relay:stream:end', onEnd);
  }
  return records.map((r) => util.inspect(r, { depth: 10 })).join('\n');
}

describe('API keys in errors (issue 9 item 2)', () => {
  test('a 401 whose body and headers echo the key: message, stack, body, headers and inspect are redacted', async () => {
    current = {
      status: 401,
      // OpenAI-compatible hosts echo the key they refused, some escape '/'.
      errorBody: `{"error":{"message":"Incorrect API key provided: ${KEY}. Also seen: ${JSON.stringify(KEY).slice(1, -1).replace(/\//g, '\\/')} and ${encodeURIComponent(KEY)}","type":"invalid_request_error"}}`,
      headers: { 'x-echo-key': KEY, 'x-echo-header': `Bearer ${HEADER_TOKEN}` },
    };
    let err;
    const diag = await recorded(async () => {
      const s = stream({
        provider: 'openai',
        baseURL: mock.baseURL('openai'),
        apiKey: KEY,
        body,
        retry: false,
        headers: { 'X-Api-Key': HEADER_TOKEN },
      });
      err = await failure(s);
    });
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.message).toMatch(/^openai answered HTTP 401: Incorrect API key provided: \[redacted\]/);
    expect(err.headers['x-echo-key']).toBe('[redacted]');
    expect(err.headers['x-echo-header']).toBe('Bearer [redacted]');
    expectNoSecret(everything(err));
    expectNoSecret(diag);
    // The request itself still carried the credentials.
    const req = mock.requests[mock.requests.length - 1];
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers['x-api-key']).toBe(HEADER_TOKEN);
  });

  test('a user Authorization header, x-goog-api-key and a key= query are redacted too', async () => {
    current = { status: 403, errorBody: `{"error":{"message":"denied ${HEADER_TOKEN} ${GOOG_KEY} ${QUERY_KEY}"}}` };
    let err;
    const diag = await recorded(async () => {
      const s = stream({
        provider: 'openai',
        url: `${mock.baseURL('openai')}/chat/completions?key=${QUERY_KEY}`,
        headers: { Authorization: `Bearer ${HEADER_TOKEN}`, 'x-goog-api-key': GOOG_KEY },
        body,
        retry: false,
      });
      err = await failure(s);
    });
    expect(err.message).toBe('openai answered HTTP 403: denied [redacted] [redacted] [redacted]');
    expectNoSecret(everything(err));
    expect(diag).toContain('key=[redacted]');
    expectNoSecret(diag);
  });

  test('a query parameter whose name holds regex characters is redacted, not a crash', async () => {
    current = { status: 403, errorBody: `{"error":{"message":"denied ${QUERY_KEY}"}}` };
    const s = stream({
      provider: 'openai',
      url: `${mock.baseURL('openai')}/chat/completions?x(api_key=${QUERY_KEY}`,
      body,
      retry: false,
    });
    const err = await failure(s);
    expect(err.message).toBe('openai answered HTTP 403: denied [redacted]');
  });

  test('a provider error event mid-stream that quotes the key is redacted in the error and the relayed error event', async () => {
    current = { tokens: 'a b c', midStreamError: { after: 1, message: `your key ${KEY} is over quota` } };
    const s = stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: KEY, body, retry: false });
    const res = s.toResponse();
    const text = await res.text();
    expect(text).toContain('event: error');
    expect(text).toContain('your key [redacted] is over quota');
    expectNoSecret(text);
    const err = await s.done.catch((e) => e);
    expect(err.code).toBe('PROVIDER_ERROR');
    expectNoSecret(everything(err));
  });

  test('the same error event relayed by pipe() straight from the worker is redacted', async () => {
    const http = require('node:http');
    current = { tokens: 'a b c', midStreamError: { after: 1, message: `your key ${KEY} is over quota` } };
    const server = http.createServer((req, res) => {
      stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: KEY, body, retry: false }).pipe(res, {
        direct: true,
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.address().port}/`)).text();
      expect(text).toContain('your key [redacted] is over quota');
      expectNoSecret(text);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('the key is redacted for every provider and its own auth header', async () => {
    for (const provider of ['anthropic', 'gemini', 'ollama']) {
      current = { status: 400, errorBody: `{"error":{"message":"bad key ${KEY}"}}` };
      const s = stream({
        provider,
        baseURL: mock.baseURL(provider),
        apiKey: KEY,
        model: 'm',
        body: { ...body, model: 'm' },
        retry: false,
      });
      const err = await failure(s);
      expect(err.message).toContain('bad key [redacted]');
      expectNoSecret(everything(err));
    }
  });

  test('a short test key is not redacted: it would mangle every message', async () => {
    current = { status: 401, errorBody: '{"error":{"message":"bad key sk-abc"}}' };
    const err = await failure(
      stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'sk-abc', body, retry: false }),
    );
    expect(err.message).toBe('openai answered HTTP 401: bad key sk-abc');
  });
});

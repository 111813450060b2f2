'use strict';

// Faults on the provider's side: refused and reset connections, stalls,
// slow drips, broken HTTP framing, oversized and endless input, redirects,
// TLS. Each ends the stream with a clear RelayError within its bound, keeps
// what arrived (`partial`), and closes the upstream connection where the
// fault left it open. Listed in docs/faults.md.

const net = require('node:net');
const { stream, RelayError } = require('../..');
const { startMockProvider } = require('../../lib/testing');
const { body, failure, within, rawServer, openaiAt } = require('./helpers');

let mock;
let current = {};

beforeAll(async () => {
  mock = await startMockProvider({
    provider: 'openai',
    script: (req, n) => (typeof current === 'function' ? current(req, n) : current),
  });
});
afterAll(() => mock.close());

function openai(script, extra = {}) {
  current = script;
  return stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'sk-secret-key-123', body, ...extra });
}

function lastRequest() {
  return mock.requests[mock.requests.length - 1];
}

// Raw HTTP/1.1 pieces for servers that break the protocol on purpose.
const HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n';
const event = (text) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}\n\n`;
const FINISH = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';
function chunk(bytes) {
  const b = Buffer.from(bytes);
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
}

/** Writes `pieces` one per `gapMs` (separate TCP reads), then `end`. Stops when the client leaves. */
function drip(socket, pieces, gapMs, end) {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    if (i < pieces.length) return void socket.write(pieces[i++]);
    clearInterval(timer);
    if (end !== undefined) socket.end(end);
  }, gapMs);
}

/** Runs `handler` as the provider and returns the stream's error plus its one upstream connection. */
async function against(handler, extra, bound = 5000) {
  const server = await rawServer(handler);
  try {
    const s = openaiAt(`${server.url}/v1`, extra);
    const err = await within(failure(s), bound, 'the failure');
    expect(server.connections).toHaveLength(1);
    await within(server.connections[0].closed, 1000, 'the upstream connection closing');
    return { err, server };
  } finally {
    await server.close();
  }
}

describe('connections', () => {
  test('a connection refused is NETWORK after the retries', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = server.address().port;
    await new Promise((r) => server.close(r));
    const s = stream({
      provider: 'openai',
      baseURL: `http://127.0.0.1:${port}/v1`,
      apiKey: 'k',
      body,
      retry: { attempts: 1, baseDelayMs: 10 },
    });
    const err = await failure(s);
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/connect/i);
    expect(err.partial.metrics.retries).toBe(1);
  });

  test('a connection reset before any content is retried', async () => {
    const before = mock.requests.length;
    let n = 0;
    const s = openai(() => (n++ === 0 ? { tokens: 'x', resetAfter: 0 } : { tokens: 'second try' }), {
      retry: { attempts: 1, baseDelayMs: 10 },
    });
    const done = await s.done;
    expect(done.text).toBe('second try');
    expect(done.metrics.retries).toBe(1);
    expect(mock.requests.length - before).toBe(2);
  });

  test('a connection reset after content is NETWORK and keeps what arrived', async () => {
    const err = await failure(openai({ tokens: 'a b c d', resetAfter: 2 }, { retry: false }));
    expect(err.code).toBe('NETWORK');
    expect(err.partial.text).toBe('a b');
    expect(err.partial.metrics.outcome).toBe('error');
  });

  test('a stream cut without [DONE] is TRUNCATED and keeps what arrived', async () => {
    const err = await failure(openai({ tokens: 'cut short', omitEndMarker: true }));
    expect(err.code).toBe('TRUNCATED');
    expect(err.partial.text).toBe('cut short');
  });

  test('a body cut inside a chunk is NETWORK, with the deltas before it', async () => {
    const { err } = await against((socket) =>
      socket.end(Buffer.concat([Buffer.from(HEAD), chunk(event('kept')), Buffer.from('100\r\ndata: {"ch')])),
    );
    expect(err.code).toBe('NETWORK');
    expect(err.partial.text).toBe('kept');
  });

  test('a body shorter than its Content-Length is NETWORK', async () => {
    const payload = event('never whole') + FINISH;
    const { err } = await against((socket) =>
      socket.end(
        `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: ${payload.length + 50}\r\n\r\n${payload.slice(0, 30)}`,
      ),
    );
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/bytes remaining/);
  });
});

describe('bad chunked encoding', () => {
  test('a chunk size that is not hex is NETWORK and closes the connection', async () => {
    const { err } = await against((socket) =>
      socket.write(Buffer.concat([Buffer.from(HEAD), chunk(event('a')), Buffer.from('zz\r\nhello\r\n')])),
    );
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/chunked/i);
    expect(err.partial.text).toBe('a');
  });

  test('a chunk longer than its size is NETWORK and closes the connection', async () => {
    const { err } = await against((socket) =>
      socket.write(Buffer.concat([Buffer.from(HEAD), chunk(event('a')), Buffer.from('3\r\nhello world\r\n')])),
    );
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/chunked/i);
  });
});

describe('stalls and drips', () => {
  test('firstByteMs: a provider that accepts but never answers gives TIMEOUT_FIRST_BYTE', async () => {
    const err = await failure(openai({ hang: true }, { timeouts: { firstByteMs: 150 } }));
    expect(err.code).toBe('TIMEOUT_FIRST_BYTE');
    await within(lastRequest().closed, 200, 'upstream close');
  });

  test('firstByteMs: a drip of comments before any content does not count as content', async () => {
    const t0 = Date.now();
    const { err } = await against(
      (socket) => {
        socket.write(HEAD);
        drip(
          socket,
          Array.from({ length: 200 }, () => chunk(':\n')),
          10,
        );
      },
      { timeouts: { firstByteMs: 250 } },
    );
    expect(err.code).toBe('TIMEOUT_FIRST_BYTE');
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  test('idleMs: pings and comments do not keep a stalled stream alive', async () => {
    const s = openai({ tokens: 'a b c d e f', stallAfter: 2, pingEveryMs: 20 }, { timeouts: { idleMs: 250 } });
    const t0 = Date.now();
    const err = await failure(s);
    expect(err.code).toBe('TIMEOUT_IDLE');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    expect(err.partial.text).toBe('a b');
    expect(err.partial.metrics.outcome).toBe('timeout');
    await within(lastRequest().closed, 200, 'upstream close');
  });

  test('totalMs bounds the whole stream', async () => {
    const err = await failure(
      openai({ tokens: Array.from({ length: 50 }, () => 'x'), delayMs: 30 }, { timeouts: { totalMs: 200 } }),
    );
    expect(err.code).toBe('TIMEOUT_TOTAL');
    await within(lastRequest().closed, 200, 'upstream close');
  });

  test('connectMs: a server that never completes the TLS handshake gives TIMEOUT_CONNECT', async () => {
    const sockets = [];
    const server = net
      .createServer((socket) => {
        socket.resume(); // read (and drop) the ClientHello, so the client's FIN is seen
        sockets.push(new Promise((r) => socket.once('close', r)));
      })
      .listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const s = stream({
        provider: 'openai',
        baseURL: `https://127.0.0.1:${server.address().port}/v1`,
        apiKey: 'k',
        body,
        timeouts: { connectMs: 200 },
        retry: false,
      });
      const t0 = Date.now();
      const err = await failure(s);
      expect(err.code).toBe('TIMEOUT_CONNECT');
      expect(Date.now() - t0).toBeLessThan(2000);
      await within(Promise.all(sockets), 1000, 'the half-open connection closing');
    } finally {
      server.close();
    }
  });

  test('a slow drip, one byte per read, arrives whole', async () => {
    const server = await rawServer((socket) => {
      socket.write(HEAD);
      const bytes = Buffer.from(event('drip') + event('ped') + FINISH);
      drip(
        socket,
        [...bytes].map((b) => chunk(Buffer.from([b]))),
        1,
        '0\r\n\r\n',
      );
    });
    try {
      const done = await within(openaiAt(`${server.url}/v1`).done, 5000, 'the dripped answer');
      expect(done.text).toBe('dripped');
      expect(done.finishReason).toBe('stop');
    } finally {
      await server.close();
    }
  });

  test('UTF-8 split inside a character across reads arrives intact', async () => {
    const text = 'né 東京 🚀👩‍💻 ok';
    const bytes = Buffer.from(event(text) + FINISH);
    // Every cut lands inside a multi-byte character.
    const cuts = [];
    for (let i = 1; i < bytes.length; i++) if ((bytes[i] & 0xc0) === 0x80) cuts.push(i);
    const pieces = [];
    let from = 0;
    for (const at of cuts) {
      pieces.push(chunk(bytes.subarray(from, at)));
      from = at;
    }
    pieces.push(chunk(bytes.subarray(from)));
    const server = await rawServer((socket) => {
      socket.write(HEAD);
      drip(socket, pieces, 2, '0\r\n\r\n');
    });
    try {
      const s = openaiAt(`${server.url}/v1`);
      let seen = '';
      for await (const d of s) if (d.type === 'text') seen += d.text;
      expect(seen).toBe(text);
      expect((await s.done).text).toBe(text);
    } finally {
      await server.close();
    }
  });
});

describe('oversized and endless input', () => {
  test('a 1 MiB event arrives whole', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const server = await rawServer((socket) =>
      socket.end(Buffer.concat([Buffer.from(HEAD), chunk(event(big)), chunk(FINISH), Buffer.from('0\r\n\r\n')])),
    );
    try {
      const done = await within(openaiAt(`${server.url}/v1`).done, 5000, 'the 1 MiB answer');
      expect(done.text).toBe(big);
    } finally {
      await server.close();
    }
  });

  test('an event larger than maxEventBytes gives LIMIT', async () => {
    const err = await failure(openai({ tokens: ['x'.repeat(5000)] }, { maxEventBytes: 2048 }));
    expect(err.code).toBe('LIMIT');
    await within(lastRequest().closed, 500, 'upstream close');
  });

  test('an endless line gives LIMIT at maxEventBytes and closes the connection', async () => {
    const { err } = await against(
      (socket) => {
        socket.write(Buffer.concat([Buffer.from(HEAD), chunk(event('before'))]));
        drip(
          socket,
          Array.from({ length: 400 }, () => chunk(`data: ${'x'.repeat(16 * 1024)}`)),
          1,
        );
      },
      { maxEventBytes: 1024 * 1024 },
    );
    expect(err.code).toBe('LIMIT');
    expect(err.message).toMatch(/maxEventBytes/);
    expect(err.partial.text).toBe('before');
  });

  test('endless response headers are NETWORK and close the connection', async () => {
    const { err } = await against((socket) => {
      socket.write('HTTP/1.1 200 OK\r\n');
      drip(
        socket,
        Array.from({ length: 1000 }, () => 'X-Filler: '.concat('a'.repeat(1000), '\r\n')),
        1,
      );
    });
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/header/i);
  });

  test('one endless header line is NETWORK and closes the connection', async () => {
    // curl 7.88 reports it as "Out of memory", curl 8 as too large headers.
    const { err } = await against((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nX-Endless: ');
      drip(
        socket,
        Array.from({ length: 100 }, () => 'a'.repeat(64 * 1024)),
        1,
      );
    });
    expect(err.code).toBe('NETWORK');
  });
});

describe('redirects', () => {
  test.each([301, 302, 307, 308])('a %i is not followed and the key goes nowhere else', async (status) => {
    const elsewhere = await rawServer((socket) => socket.destroy());
    try {
      const { err, server } = await against((socket) =>
        socket.end(
          `HTTP/1.1 ${status} Moved\r\nLocation: ${elsewhere.url}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        ),
      );
      expect(err).toMatchObject({ code: 'HTTP_STATUS', status });
      expect(err.headers.location).toBe(`${elsewhere.url}/steal`);
      expect(server.connections[0].request).toContain('Authorization: Bearer sk-fault-suite-key');
      expect(elsewhere.connections).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('TLS', () => {
  test('a self-signed certificate is refused by default, before the request is sent', async () => {
    const tls = await startMockProvider({ provider: 'openai', tls: true, script: { tokens: 'x' } });
    try {
      const s = stream({
        provider: 'openai',
        baseURL: tls.baseURL('openai'),
        apiKey: 'sk-never-sent-0000',
        body,
        retry: false,
      });
      const err = await failure(s);
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(/certificate|issuer|verif/i);
      expect(tls.requests).toHaveLength(0);
    } finally {
      await tls.close();
    }
  });
});

describe('HTTP errors', () => {
  test('an HTTP error reads the provider message and Retry-After, and never shows the API key', async () => {
    const err = await failure(openai({ status: 429, headers: { 'retry-after': '20' } }, { retry: false }));
    expect(err).toBeInstanceOf(RelayError);
    expect(err.code).toBe('HTTP_STATUS');
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(20000);
    expect(err.provider).toBe('openai');
    expect(err.message).toMatch(/^openai answered HTTP 429: .+/);
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain('sk-secret-key-123');
  });

  test('a 429 then a 200 is retried, honouring Retry-After, and counted', async () => {
    let n = 0;
    const s = openai(() => (n++ === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { tokens: 'second try' }), {
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 5000 },
    });
    const t0 = Date.now();
    const done = await s.done;
    expect(done.text).toBe('second try');
    expect(done.metrics.retries).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // waited the Retry-After second
  });

  test('a Retry-After longer than maxDelayMs is not waited for: the caller gets the error', async () => {
    const err = await failure(
      openai({ status: 503, headers: { 'retry-after': '60' } }, { retry: { maxDelayMs: 1000 } }),
    );
    expect(err).toMatchObject({ code: 'HTTP_STATUS', status: 503, retryAfterMs: 60000 });
    expect(err.partial.metrics.retries).toBe(0);
  });

  test('a 401 is not retried', async () => {
    const before = mock.requests.length;
    const err = await failure(openai({ status: 401 }));
    expect(err).toMatchObject({ code: 'HTTP_STATUS', status: 401 });
    expect(mock.requests.length - before).toBe(1);
  });

  test('an error event mid-stream is PROVIDER_ERROR with the deltas before it', async () => {
    const err = await failure(
      openai(
        { tokens: 'a b c', midStreamError: { after: 2, type: 'server_error', message: 'boom' } },
        { retry: false },
      ),
    );
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR', type: 'server_error' });
    expect(err.message).toMatch(/boom/);
    expect(err.partial.text).toBe('a b');
  });
});

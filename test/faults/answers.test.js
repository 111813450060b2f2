'use strict';

// Provider answers that used to end badly (issue 9): an end marker on a body
// that stays open, a page that is not an event stream, compressed bodies,
// ill-formed UTF-8, and descriptors inherited by child processes. Each test
// runs against a small local server that sends exactly the bytes in question.

const http = require('node:http');
const zlib = require('node:zlib');
const { spawn } = require('node:child_process');
const { stream } = require('../..');
const { native } = require('../../lib/binding');
const {
  startServer,
  startMockProvider,
  mockStream,
  rawRequest,
  parseRawResponse,
  within,
  sleep,
} = require('../integration/relay-helpers');

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()();
});

/** A provider that runs `handler(req, res)`; tracks its sockets and whether each closed. */
async function provider(handler) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const handle = {
    baseURL: `http://127.0.0.1:${port}`,
    sockets,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  cleanups.push(() => handle.close());
  return handle;
}

const chunk = (text) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}\n\n`;
const finish = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`;

describe('an end marker on a body that stays open', () => {
  const ends = {
    openai: { path: '/v1', events: [chunk('Hel'), chunk('lo'), finish, 'data: [DONE]\n\n'] },
    anthropic: {
      path: '',
      events: [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c","usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n',
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ],
    },
  };
  for (const [name, { path, events }] of Object.entries(ends)) {
    test(`${name}: the stream completes at the end marker, and the held-open connection is closed`, async () => {
      const upstream = await provider((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const e of events) res.write(e);
        // ...and never res.end(): a proxy or gateway that keeps the body open.
      });
      const started = Date.now();
      const s = stream({
        provider: name,
        baseURL: upstream.baseURL + path,
        apiKey: 'k',
        body: { ...body, max_tokens: 5 },
        timeouts: { idleMs: 5000 },
      });
      const done = await within(s.done, 3000, 'the end of the stream');
      expect(done.text).toBe('Hello');
      expect(done.metrics.outcome).toBe('completed');
      expect(Date.now() - started).toBeLessThan(2000);
      // The provider's body never ended, so the connection cannot be reused: it is closed.
      await within(
        (async () => {
          while (upstream.sockets.size > 0) await sleep(10);
        })(),
        3000,
        'the upstream connection closing',
      );
    });
  }

  test('relayed, the browser gets the whole answer and a clean end, not an error after it', async () => {
    const upstream = await provider((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${chunk('all') + chunk(' of it') + finish}data: [DONE]\n\n`);
    });
    for (const direct of [true, false]) {
      const server = await startServer((req, res) => {
        stream({ provider: 'openai', baseURL: upstream.baseURL, apiKey: 'k', body, timeouts: { idleMs: 5000 } }).pipe(
          res,
          { direct },
        );
      });
      cleanups.push(() => server.close());
      const raw = await within(rawRequest(server.port).closed, 3000, 'the relayed response');
      const { body: text, complete } = parseRawResponse(raw);
      expect(complete).toBe(true);
      expect(text).toContain('data: [DONE]');
      expect(text).not.toContain('event: error');
    }
  });

  test('a provider that ends its body right after the marker keeps its connection for the next stream', async () => {
    const upstream = await provider((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`${chunk('one') + finish}data: [DONE]\n\n`);
      setTimeout(() => res.end(), 30); // the terminating chunk comes a little later
    });
    const connections = new Set();
    for (let i = 0; i < 3; i++) {
      const done = await stream({ provider: 'openai', baseURL: upstream.baseURL, apiKey: 'k', body }).done;
      expect(done.text).toBe('one');
      for (const socket of upstream.sockets) connections.add(socket);
      await sleep(60);
    }
    expect(connections.size).toBe(1);
  });
});

describe('an answer that is not an event stream', () => {
  test('a 200 text/html page that never ends fails at once with PROTOCOL naming the type', async () => {
    const upstream = await provider((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write('<!doctype html><html><body><h1>Sign in to the corporate proxy</h1>');
      // never ends
    });
    const started = Date.now();
    const err = await stream({
      provider: 'openai',
      baseURL: upstream.baseURL,
      apiKey: 'k',
      body,
      retry: false,
    }).done.catch((e) => e);
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toContain('text/html');
    expect(err.message).toContain('Sign in to the corporate proxy');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a 200 JSON error body is quoted in the PROTOCOL error', async () => {
    const upstream = await provider((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"streaming is not enabled for this deployment"}}');
    });
    const err = await stream({
      provider: 'openai',
      baseURL: upstream.baseURL,
      apiKey: 'k',
      body,
      retry: false,
    }).done.catch((e) => e);
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toContain('application/json');
    expect(err.message).toContain('streaming is not enabled');
  });
});

describe('compressed bodies', () => {
  const events = `${chunk('com') + chunk('pressed') + finish}data: [DONE]\n\n`;
  for (const [encoding, compress] of [
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
  ]) {
    test(`a ${encoding} event stream sent unasked is decoded`, async () => {
      const upstream = await provider((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': encoding });
        res.end(compress(Buffer.from(events)));
      });
      const done = await stream({ provider: 'openai', baseURL: upstream.baseURL, apiKey: 'k', body }).done;
      expect(done.text).toBe('compressed');
    });
  }

  test('the request asks for an uncompressed answer', async () => {
    let accept;
    const upstream = await provider((req, res) => {
      accept = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(events);
    });
    await stream({ provider: 'openai', baseURL: upstream.baseURL, apiKey: 'k', body }).done;
    expect(accept).toBe('identity');
  });

  test('an encoding this build cannot decode fails as PROTOCOL naming it, not TRUNCATED', async () => {
    const upstream = await provider((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'x-unheard-of' });
      res.end(events);
    });
    const err = await stream({
      provider: 'openai',
      baseURL: upstream.baseURL,
      apiKey: 'k',
      body,
      retry: false,
    }).done.catch((e) => e);
    expect(err.code).toBe('PROTOCOL');
    expect(err.message).toContain('x-unheard-of');
  });
});

describe('ill-formed UTF-8 from the provider', () => {
  // "bad \xff byte" and a 4-byte character cut short, inside JSON strings.
  const bytes = Buffer.concat([
    Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"bad '),
    Buffer.from([0xff]),
    Buffer.from(' byte, '),
    Buffer.from([0xf0, 0x9f, 0x8e]),
    Buffer.from(' cut"}}]}\n\n'),
    Buffer.from(`${finish}data: [DONE]\n\n`),
  ]);
  const expected = 'bad \ufffd byte, \ufffd cut';

  test('the answer holds U+FFFD for each ill-formed sequence, as JavaScript decodes it', async () => {
    const mock = await startMockProvider({ provider: 'openai', script: { raw: bytes } });
    cleanups.push(() => mock.close());
    const s = mockStream(mock);
    let text = '';
    for await (const d of s) if (d.type === 'text') text += d.text;
    expect(text).toBe(expected);
    expect((await s.done).text).toBe(expected);
  });

  for (const format of ['sse', 'text', 'openai', 'ndjson', 'ui-message']) {
    test(`${format}: the relayed bytes are valid UTF-8, the same from the worker and from Node`, async () => {
      const mock = await startMockProvider({ provider: 'openai', script: { raw: bytes } });
      cleanups.push(() => mock.close());
      const seen = [];
      for (const direct of [true, false]) {
        const server = await startServer((req, res) => mockStream(mock).pipe(res, { format, direct }));
        cleanups.push(() => server.close());
        const raw = await within(rawRequest(server.port).closed, 3000, 'the relayed response');
        const { body: text, complete } = parseRawResponse(raw);
        expect(complete).toBe(true);
        // The body bytes exactly as they crossed the wire (parseRawResponse
        // decodes them, which would hide ill-formed bytes).
        const wire = Buffer.from(
          raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/(^|\r\n)[0-9a-f]+\r\n/g, ''),
          'latin1',
        );
        expect(() => new TextDecoder('utf-8', { fatal: true }).decode(wire)).not.toThrow();
        seen.push(
          text
            .replace(/chatcmpl-relay[0-9a-f]+/g, 'ID')
            .replace(/"created":\d+/g, '"created":0')
            .replace(/"messageId":"[^"]*"/g, ''),
        );
      }
      expect(seen[0]).toBe(seen[1]);
      expect(seen[0]).toContain(
        format === 'sse' || format === 'ndjson' ? JSON.stringify(expected).slice(1, -1) : 'cut',
      );
    });
  }

  test('random bytes: the native text agrees with the WHATWG decoder on every input', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 300; round++) {
      const junk = Buffer.alloc(1 + (next() % 24));
      // Bias towards the interesting bytes: leads, continuations, ASCII.
      const pool = [
        0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
      ];
      for (let i = 0; i < junk.length; i++) junk[i] = pool[next() % pool.length];
      // The JSON string must not contain '"' or '\\' or control bytes; the pool has none.
      const event = Buffer.concat([
        Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"'),
        junk,
        Buffer.from('"}}]}\n\ndata: [DONE]\n\n'),
      ]);
      const { output } = native.parse('openai', 'text', event, event.length, 1);
      expect(output.toString('latin1')).toBe(Buffer.from(junk.toString('utf8'), 'utf8').toString('latin1'));
    }
  });
});

describe('descriptors and child processes', () => {
  test('every descriptor the addon opens is close-on-exec', async () => {
    // In a fresh process: which descriptors lack O_CLOEXEC before the addon
    // loads, and which while a stream is open (worker loop, curl's multi
    // handle, the upstream socket, a relayed client socket).
    const script = `
      const fs = require('node:fs');
      const inheritable = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          const flags = parseInt(/flags:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8'))[1], 8);
          return (flags & 0o2000000) === 0;
        } catch { return false; }
      }).map(Number);
      const before = inheritable();
      const http = require('node:http');
      const { stream } = require(${JSON.stringify(require.resolve('../..'))});
      const { startMockProvider } = require(${JSON.stringify(require.resolve('../../lib/testing'))});
      (async () => {
        const mock = await startMockProvider({ provider: 'openai', script: { tokens: ['a', 'b', 'c'], delayMs: 300 } });
        const server = http.createServer((req, res) => {
          stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'k', body: {} }).pipe(res, { direct: true });
        });
        await new Promise((r) => server.listen(0, '127.0.0.1', r));
        await new Promise((resolve) => http.get('http://127.0.0.1:' + server.address().port, (res) => res.once('data', resolve)));
        const during = inheritable();
        process.send({ before, during });
        process.exit(0);
      })();
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    cleanups.push(() => child.kill('SIGKILL'));
    const { before, during } = await within(
      new Promise((resolve) => child.once('message', resolve)),
      10_000,
      'the child reporting',
    );
    expect(during.filter((fd) => !before.includes(fd))).toEqual([]);
  });

  test('a child spawned mid-stream does not keep an aborted upstream connection open', async () => {
    const upstream = await provider((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('first'));
      // then nothing: the stream is aborted while open
    });
    const s = stream({ provider: 'openai', baseURL: upstream.baseURL, apiKey: 'k', body });
    const reader = s.getReader();
    expect((await reader.read()).value.text).toBe('first');
    // An app that runs a tool (ffmpeg, a shell) while streaming.
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanups.push(() => child.kill('SIGKILL'));
    await new Promise((resolve) => child.once('spawn', resolve));
    s.abort();
    await reader.read().catch(() => {});
    // The provider sees the connection close although the child still runs.
    await within(
      (async () => {
        while (upstream.sockets.size > 0) await sleep(10);
      })(),
      2000,
      'the upstream connection closing while the child process lives',
    );
    expect(child.exitCode).toBe(null);
  });
});

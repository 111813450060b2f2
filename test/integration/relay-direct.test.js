'use strict';

// pipe()'s direct mode: on a plain HTTP/1.1 socket the worker thread writes
// the response head and the chunked body itself. What goes over the wire
// must be exactly what Node's own writes produce, and the main thread must
// not write to the socket at all. That is read from socket.bytesWritten,
// which counts every byte Node's own writes handed to the socket (and none
// of the worker's).

const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const express = require('express');
const compression = require('compression');
const { getTestCertificates } = require('../helpers/tls');
const {
  startServer,
  startMockProvider,
  mockStream,
  within,
  sleep,
  rawRequest,
  parseRawResponse,
  stalledReader,
} = require('./relay-helpers');

const cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()();
});

async function mockWith(script) {
  const mock = await startMockProvider({ provider: 'openai', script });
  cleanups.push(() => mock.close());
  return mock;
}

/**
 * A relay server that records, per response, the pipe() result and how many
 * bytes Node itself wrote to the socket for it (measured at 'finish' or
 * 'close', as the difference of socket.bytesWritten).
 */
async function relayServer(mock, { pipeOptions = { direct: true }, streamOptions = {} } = {}) {
  const results = [];
  const nodeBytes = [];
  const server = await startServer((req, res) => {
    // A response queued behind the previous one on its socket gets the
    // socket later: count from then.
    const socket = res.socket || req.socket;
    let before = socket.bytesWritten;
    if (!res.socket) res.once('socket', () => (before = socket.bytesWritten));
    const measured = new Promise((resolve) => {
      const done = () => resolve(socket.bytesWritten - before);
      res.once('finish', done);
      res.once('close', done);
    });
    nodeBytes.push(measured);
    results.push(
      mockStream(mock, streamOptions)
        .pipe(res, pipeOptions)
        .then(
          (summary) => ({ summary }),
          (error) => ({ error }),
        ),
    );
  });
  cleanups.push(() => server.close());
  return { ...server, results, nodeBytes };
}

/**
 * Checks the chunked framing byte by byte, the way Node's ServerResponse
 * frames it: "<lowercase hex size, no leading zeros>\r\n<data>\r\n" per chunk,
 * no extensions, and "0\r\n\r\n" as the very last bytes when complete.
 * Returns the chunks.
 */
function strictChunks(raw) {
  const buf = Buffer.from(raw, 'latin1');
  let offset = buf.indexOf('\r\n\r\n') + 4;
  const chunks = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', offset);
    if (eol < 0) {
      expect(offset).toBe(buf.length); // nothing but whole chunks
      return { chunks, complete: false };
    }
    const line = buf.toString('latin1', offset, eol);
    expect(line).toMatch(/^(0|[1-9a-f][0-9a-f]*)$/);
    const size = parseInt(line, 16);
    if (size === 0) {
      expect(buf.toString('latin1', eol, buf.length)).toBe('\r\n\r\n');
      return { chunks, complete: true };
    }
    const end = eol + 2 + size;
    if (end + 2 > buf.length) {
      // A body cut short may stop mid-chunk only if the socket closed.
      return { chunks, complete: false };
    }
    chunks.push(buf.subarray(eol + 2, end));
    expect(buf.toString('latin1', end, end + 2)).toBe('\r\n');
    offset = end + 2;
  }
}

function headerBlockWithoutDate(raw) {
  return raw
    .slice(0, raw.indexOf('\r\n\r\n') + 4)
    .split('\r\n')
    .filter((line) => !/^date:/i.test(line))
    .join('\r\n');
}

const SCRIPT = {
  tokens: ['Hello', ' wörld', ' — ', 'emoji 🎉', ' "quoted"', ' back\\slash', '\nnew line', ' done.'],
  toolCalls: [{ id: 'call_fixed1', name: 'lookup', arguments: '{"q":"x"}' }],
  delayMs: 3,
};

test('direct writes are available on this Node: its http internals are the ones they were written for', () => {
  // If a Node release changes them, relays fall back to Node's own writes
  // (correct, but with main-thread work per token): this says so loudly.
  expect(require('../../lib/server/node-internals').SUPPORTED).toBe(true);
});

describe('pipe() direct mode', () => {
  for (const format of ['sse', 'openai', 'ndjson', 'text', 'ui-message']) {
    test(`${format}: the bytes on the wire are the same whether the worker or Node writes them`, async () => {
      const mock = await mockWith(SCRIPT);
      const seen = {};
      for (const direct of [true, false]) {
        const relay = await relayServer(mock, { pipeOptions: { format, direct } });
        const client = rawRequest(relay.port);
        const raw = await within(client.closed, 5000, 'the response');
        const { summary } = await relay.results[0];
        expect(summary.metrics.outcome).toBe('completed');
        const nodeWrote = await relay.nodeBytes[0];
        if (direct)
          expect(nodeWrote).toBe(0); // head and body are all the worker's
        else expect(nodeWrote).toBe(Buffer.byteLength(raw, 'latin1'));
        const { chunks, complete } = strictChunks(raw);
        expect(complete).toBe(true);
        expect(chunks.length).toBeGreaterThan(0);
        // The openai format carries a random id and the creation second of each stream.
        const body = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/chatcmpl-relay[0-9a-f]+/g, 'ID')
          .replace(/"created":\d+/g, '"created":0');
        seen[direct] = { head: headerBlockWithoutDate(raw), body };
      }
      expect(seen.true.head).toBe(seen.false.head);
      expect(seen.true.body).toBe(seen.false.body);
      if (format === 'text') expect(seen.true.body).toBe(SCRIPT.tokens.join(''));
    });
  }

  test('keep-alive: two requests on one connection are both written by the worker and both complete', async () => {
    const mock = await mockWith({ tokens: ['one', ' two', ' three'], delayMs: 2 });
    const relay = await relayServer(mock);
    const socket = net.connect(relay.port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      received += d;
    });
    const request = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n';
    const waitForEnds = (n) =>
      within(
        (async () => {
          while (received.split('0\r\n\r\n').length - 1 < n) await sleep(5);
        })(),
        5000,
        `${n} complete responses`,
      );
    socket.write(request);
    await waitForEnds(1);
    const first = received;
    socket.write(request);
    await waitForEnds(2);
    expect(socket.destroyed).toBe(false);
    const second = received.slice(first.length);
    for (const raw of [first, second]) {
      expect(raw.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      expect(raw).toMatch(/\r\nConnection: keep-alive\r\n/);
      const { body, complete } = parseRawResponse(raw);
      expect(complete).toBe(true);
      expect(raw.endsWith('0\r\n\r\n')).toBe(true);
      expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(body).toContain('"text":" three"');
    }
    const nodeWrote = await Promise.all(relay.nodeBytes);
    expect(nodeWrote).toEqual([0, 0]);
    const results = await Promise.all(relay.results);
    expect(results.map((r) => r.summary.metrics.outcome)).toEqual(['completed', 'completed']);
  });

  test('the worker closes its copy of the socket: no file descriptor is left behind', async () => {
    const fs = require('node:fs');
    const mock = await mockWith({ tokens: ['f1', 'f2'], delayMs: 1 });
    const relay = await relayServer(mock);
    const count = () => fs.readdirSync('/proc/self/fd').length;
    // One round first: the engine thread, curl's pool and the mock's sockets exist from then on.
    await within(rawRequest(relay.port).closed, 5000, 'a warm-up response');
    const before = count();
    for (let i = 0; i < 5; i++) await within(rawRequest(relay.port).closed, 5000, 'a response');
    const cut = rawRequest(relay.port);
    await within(cut.waitFor('"text":"f1"'), 5000, 'a first token');
    cut.socket.destroy();
    await within(Promise.all(relay.results), 5000, 'every pipe settling');
    await sleep(50);
    expect(count()).toBeLessThanOrEqual(before);
    expect(await Promise.all(relay.nodeBytes)).toEqual(expect.arrayContaining([expect.any(Number)]));
  });

  test('a client disconnect mid-stream closes the upstream request within 500 ms and rejects with ABORTED', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 300 }, (_, i) => `t${i} `), delayMs: 10 });
    const relay = await relayServer(mock);
    const client = rawRequest(relay.port);
    await within(client.waitFor('"text":"t2 "'), 5000, 'the first tokens');
    const [request] = await mock.waitForRequests(1);
    const cutAt = Date.now();
    client.socket.destroy();
    await within(request.closed, 2000, 'the upstream request closing');
    expect(Date.now() - cutAt).toBeLessThan(500);
    expect(request.completed).toBe(false);
    const { error } = await within(relay.results[0], 2000, 'the pipe promise settling');
    expect(error.code).toBe('ABORTED');
    expect(error.partial.text).toMatch(/^t0 t1 t2 /);
    expect(await relay.nodeBytes[0]).toBe(0); // head and body were the worker's
  });

  test('the server keeps serving after many clients leave mid-stream (no write reaches a reused socket)', async () => {
    const mock = await mockWith({ tokens: Array.from({ length: 100 }, (_, i) => `u${i} `), delayMs: 2 });
    const relay = await relayServer(mock);
    for (let round = 0; round < 3; round++) {
      const clients = Array.from({ length: 10 }, () => rawRequest(relay.port));
      await within(Promise.all(clients.map((c) => c.waitFor('"text":"u1 "'))), 5000, 'the first tokens');
      for (const c of clients) c.socket.destroy();
      // New connections probably get the file descriptor numbers just freed.
      const fresh = rawRequest(relay.port);
      const raw = await within(fresh.closed, 5000, 'a fresh response');
      const { body, complete } = parseRawResponse(raw);
      expect(complete).toBe(true);
      expect(body).toBe(strictChunksBody(raw));
      expect(body).not.toMatch(/HTTP\/1\.1/);
      const texts = [...body.matchAll(/"text":"(u\d+ )"/g)].map((m) => m[1]);
      expect(texts).toEqual(Array.from({ length: 100 }, (_, i) => `u${i} `));
    }
    const settled = await within(Promise.all(relay.results), 5000, 'every pipe settling');
    expect(settled.filter((r) => r.error).every((r) => r.error.code === 'ABORTED')).toBe(true);
  });

  test('backpressure: a client that stops reading pauses the upstream, then everything arrives', async () => {
    const TOKEN = 'y'.repeat(1000);
    // ~46 MB on the upstream wire. The loopback buffers between the mock and the client absorbed 11-16 MB
    // when measured here (a receive buffer autotunes up to tcp_rmem's 32 MiB): an answer of 16,000 tokens
    // sometimes fit whole under load and the mock completed although the relay had paused.
    const TOKENS = 40_000;
    const mock = await mockWith({ tokens: Array.from({ length: TOKENS }, () => TOKEN) });
    const relay = await relayServer(mock);
    const client = await stalledReader(relay.port);
    cleanups.push(() => client.socket.destroy());
    const [request] = await mock.waitForRequests(1);
    global.gc?.();
    const before = process.memoryUsage();
    // The mock's writes stall once the three hops' socket buffers are full.
    await sleep(1500);
    const after = process.memoryUsage();
    expect(request.completed).toBe(false);
    expect(after.rss - before.rss).toBeLessThan(48 * 1024 * 1024);

    const raw = await client.readToEnd(30000);
    expect(raw.endsWith('data: [DONE]\n\n\r\n0\r\n\r\n')).toBe(true);
    const { summary } = await relay.results[0];
    expect(summary.text.length).toBe(TOKENS * TOKEN.length);
    expect(request.completed).toBe(true);
    expect(client.bytes()).toBeGreaterThan(TOKENS * TOKEN.length);
    const { chunks, complete } = strictChunks(raw);
    expect(complete).toBe(true);
    expect(Buffer.concat(chunks).toString('latin1').split('data: {"type":"text"').length - 1).toBe(TOKENS);
    expect(await relay.nodeBytes[0]).toBe(0);
  }, 60000);

  test('an error mid-stream goes out as event: error, then the terminating chunk', async () => {
    const mock = await mockWith({
      tokens: ['a', 'b', 'c'],
      midStreamError: { after: 2, type: 'server_error', message: 'boom' },
    });
    const relay = await relayServer(mock, { streamOptions: { retry: { attempts: 0 } } });
    const client = rawRequest(relay.port);
    const raw = await within(client.closed, 5000, 'the response ending');
    const { chunks, complete } = strictChunks(raw);
    expect(complete).toBe(true);
    const body = Buffer.concat(chunks).toString('utf8');
    const events = body.split('\n\n');
    expect(events.pop()).toBe('');
    expect(events.slice(0, 2)).toEqual(['data: {"type":"text","text":"a"}', 'data: {"type":"text","text":"b"}']);
    const last = events[events.length - 1];
    expect(last.startsWith('event: error\ndata: ')).toBe(true);
    expect(JSON.parse(last.slice('event: error\ndata: '.length)).code).toBe('PROVIDER_ERROR');
    const { error } = await relay.results[0];
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(await relay.nodeBytes[0]).toBe(0);
  });

  test('text cannot carry an error: the body is cut short (no terminating chunk)', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c'], midStreamError: { after: 2 } });
    const relay = await relayServer(mock, {
      pipeOptions: { format: 'text', direct: true },
      streamOptions: { retry: { attempts: 0 } },
    });
    const client = rawRequest(relay.port);
    const raw = await within(client.closed, 5000, 'the connection closing');
    const { chunks, complete } = strictChunks(raw);
    expect(complete).toBe(false);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('ab');
    expect(raw).not.toContain('0\r\n\r\n');
    const { error } = await relay.results[0];
    expect(error.code).toBe('PROVIDER_ERROR');
  });

  test('an abort from the server side ends the body with an ABORTED error event, as Node writes it', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });
    const seen = {};
    for (const direct of [true, false]) {
      const controller = new AbortController();
      const relay = await relayServer(mock, { pipeOptions: { direct }, streamOptions: { signal: controller.signal } });
      const client = rawRequest(relay.port);
      await within(client.waitFor('"text":"b"'), 5000, 'the tokens before the stall');
      controller.abort();
      const raw = await within(client.closed, 5000, 'the response ending');
      const { chunks, complete } = strictChunks(raw);
      expect(complete).toBe(true);
      seen[direct] = Buffer.concat(chunks).toString('utf8');
      expect((await relay.results[0]).error.code).toBe('ABORTED');
    }
    expect(seen.true).toBe(seen.false);
    expect(seen.true).toMatch(/event: error\ndata: \{"code":"ABORTED"/);
  });

  test('heartbeats are written by the worker, each one a chunk of its own', async () => {
    const mock = await mockWith({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });
    for (const [format, beat] of [
      ['sse', ': ping\n\n'],
      ['ndjson', '\n'],
    ]) {
      const relay = await relayServer(mock, { pipeOptions: { format, heartbeatMs: 40, direct: true } });
      const client = rawRequest(relay.port);
      const framed = `${beat.length.toString(16)}\r\n${beat}\r\n`;
      // Two heartbeats after the last token (on a loaded machine the first token can take longer
      // than heartbeatMs, and a heartbeat before it is right too).
      const afterB = () => {
        const text = client.text();
        const at = text.indexOf('"text":"b"');
        return at === -1 ? '' : text.slice(at);
      };
      await within(
        (async () => {
          while (afterB().split(framed).length - 1 < 2) await sleep(10);
        })(),
        3000,
        'two heartbeats after the tokens',
      );
      const { chunks } = strictChunks(client.text());
      const body = Buffer.concat(chunks).toString('utf8');
      if (format === 'sse')
        expect(body).toMatch(
          /^(: ping\n\n)*data: \{"type":"text","text":"a"\}\n\ndata: \{"type":"text","text":"b"\}\n\n: ping\n\n: ping\n\n/,
        );
      else expect(body).toMatch(/^\n*\{"type":"text","text":"a"\}\n\{"type":"text","text":"b"\}\n\n\n/);
      client.socket.destroy();
      const { error } = await within(relay.results[0], 2000, 'the pipe settling');
      expect(error.code).toBe('ABORTED');
      expect(await relay.nodeBytes[0]).toBe(0);
    }
  });

  test('a response queued behind the previous one on its socket (pipelined, or a client quick to send its next request) is written by the worker too, once the socket is its own', async () => {
    const mock = await mockWith({ tokens: ['one ', 'two'] });
    const relay = await relayServer(mock);
    const socket = net.connect(relay.port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      raw += d;
    });
    // Both requests in one write: Node queues the second response until the
    // first has finished.
    socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await within(new Promise((resolve) => socket.once('close', resolve)), 5000, 'both responses');
    const second = raw.indexOf('HTTP/1.1 200', 1);
    expect(second).toBeGreaterThan(0);
    for (const part of [raw.slice(0, second), raw.slice(second)]) {
      const res = parseRawResponse(part);
      expect(res.complete).toBe(true);
      expect(res.body).toContain('"text":"one "');
      expect(res.body).toContain('data: [DONE]');
    }
    expect(await Promise.all(relay.results)).toEqual([
      expect.objectContaining({ summary: expect.anything() }),
      expect.objectContaining({ summary: expect.anything() }),
    ]);
    // Neither body went through Node's writes.
    expect(await Promise.all(relay.nodeBytes)).toEqual([0, 0]);
  });

  test('every write postpones the heartbeat: none while tokens flow faster than heartbeatMs, one once they stop', async () => {
    // 16 tokens 20 ms apart (over 300 ms) with heartbeatMs 200, then silence.
    const tokens = Array.from({ length: 16 }, (_, i) => `t${i} `);
    const mock = await mockWith({ tokens, delayMs: 20, stallAfter: tokens.length });
    const relay = await relayServer(mock, { pipeOptions: { heartbeatMs: 200, direct: true } });
    const client = rawRequest(relay.port);
    await within(
      (async () => {
        while (!client.text().includes(': ping')) await sleep(10);
      })(),
      3000,
      'a heartbeat after the last token',
    );
    const body = Buffer.concat(strictChunks(client.text()).chunks).toString('utf8');
    const beforePing = body.slice(0, body.indexOf(': ping'));
    expect(beforePing).toContain('"text":"t15 "');
    client.socket.destroy();
    await within(relay.results[0], 2000, 'the pipe settling');
  });

  test('the option and LLM_RELAY_DIRECT choose who writes: on by default, =1 keeps it on, =0 wins over direct: true', async () => {
    const mock = await mockWith({ tokens: ['p', 'q'] });
    const nodeWrites = async (pipeOptions, env) => {
      if (env === undefined) delete process.env.LLM_RELAY_DIRECT;
      else process.env.LLM_RELAY_DIRECT = env;
      try {
        const relay = await relayServer(mock, { pipeOptions });
        const raw = await within(rawRequest(relay.port).closed, 5000, 'the response');
        expect(parseRawResponse(raw).body).toContain('"text":"q"');
        const wrote = await relay.nodeBytes[0];
        if (wrote === 0) return 'worker';
        expect(wrote).toBe(Buffer.byteLength(raw, 'latin1'));
        return 'node';
      } finally {
        delete process.env.LLM_RELAY_DIRECT;
      }
    };
    expect(await nodeWrites({}, undefined)).toBe('worker');
    expect(await nodeWrites({ direct: false }, undefined)).toBe('node');
    expect(await nodeWrites({ direct: true }, undefined)).toBe('worker');
    expect(await nodeWrites({}, '1')).toBe('worker');
    expect(await nodeWrites({ direct: false }, '1')).toBe('node');
    expect(await nodeWrites({ direct: true }, '0')).toBe('node');
    expect(() =>
      mockStream(mock).pipe(new http.ServerResponse(new http.IncomingMessage(new net.Socket())), { direct: 'yes' }),
    ).toThrow(/Expected a boolean for direct/);
  });

  test('with a socket idle timeout (server.timeout) Node writes the body, so its writes keep resetting the timer', async () => {
    const mock = await mockWith({ tokens: ['t1', 't2'] });
    const relay = await relayServer(mock);
    relay.server.timeout = 60_000;
    const raw = await within(rawRequest(relay.port).closed, 5000, 'the response');
    expect(parseRawResponse(raw).complete).toBe(true);
    expect(await relay.nodeBytes[0]).toBe(Buffer.byteLength(raw, 'latin1'));
  });

  test('behind compression() Node writes the body (the middleware must see it)', async () => {
    const mock = await mockWith({ tokens: ['c1', 'c2'] });
    const app = express();
    app.use(compression({ threshold: 0 }));
    let nodeBytes;
    app.post('/', (req, res) => {
      const socket = res.socket;
      res.once('finish', () => {
        nodeBytes = socket.bytesWritten;
      });
      mockStream(mock).pipe(res, { direct: true });
    });
    const relay = await startServer(app);
    cleanups.push(() => relay.close());
    const raw = await within(rawRequest(relay.port).closed, 5000, 'the response');
    const { body, complete } = parseRawResponse(raw);
    expect(complete).toBe(true);
    expect(body).toContain('"text":"c2"');
    expect(nodeBytes).toBe(Buffer.byteLength(raw, 'latin1'));
  });

  test('over TLS Node writes the body', async () => {
    const mock = await mockWith({ tokens: ['s1', 's2'] });
    const { key, cert, ca } = await getTestCertificates();
    let nodeBytes;
    const server = https.createServer({ key, cert }, (req, res) => {
      const socket = res.socket;
      res.once('finish', () => {
        nodeBytes = socket.bytesWritten;
      });
      mockStream(mock).pipe(res, { direct: true });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const body = await within(
      new Promise((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port: server.address().port, method: 'POST', ca, agent: false },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end();
      }),
      5000,
      'the TLS response',
    );
    expect(body).toContain('"text":"s2"');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(nodeBytes).toBeGreaterThan(body.length); // headers and body went through Node
  });
});

function strictChunksBody(raw) {
  return Buffer.concat(strictChunks(raw).chunks).toString('utf8');
}

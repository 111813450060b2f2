'use strict';

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const { stream } = require('../..');
const { startMockProvider } = require('../../lib/testing');

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

describe('transport', () => {
  test('HTTPS against a self-signed server works inside Node with the tls.ca option', async () => {
    const mock = await startMockProvider({ provider: 'openai', tls: true, script: { tokens: 'over tls' } });
    try {
      const done = await stream({
        provider: 'openai',
        baseURL: mock.baseURL('openai'),
        apiKey: 'k',
        body,
        tls: { ca: mock.ca },
      }).done;
      expect(done.text).toBe('over tls');
      expect(mock.baseURL('openai')).toMatch(/^https:/);
    } finally {
      await mock.close();
    }
  });

  test('HTTP/2 is negotiated over TLS for concurrent streams', async () => {
    const mock = await startMockProvider({
      provider: 'openai',
      tls: true,
      http2: true,
      script: { tokens: 'h2 answer', delayMs: 5 },
    });
    try {
      const streams = Array.from(
        { length: 20 },
        () =>
          stream({ provider: 'openai', baseURL: mock.baseURL('openai'), apiKey: 'k', body, tls: { ca: mock.ca } }).done,
      );
      const results = await Promise.all(streams);
      expect(results.every((r) => r.text === 'h2 answer')).toBe(true);
      expect(mock.requests.every((r) => r.httpVersion === '2.0')).toBe(true);
    } finally {
      await mock.close();
    }
  });

  test("http2: 'prior-knowledge' speaks HTTP/2 over plain http:// (h2c), concurrent streams", async () => {
    const http2 = require('node:http2');
    const server = http2.createServer();
    const sessions = new Set();
    server.on('session', (session) => sessions.add(session));
    server.on('stream', (st) => {
      st.resume();
      st.on('end', () => {
        st.respond({ ':status': 200, 'content-type': 'text/event-stream' });
        st.write('data: {"choices":[{"index":0,"delta":{"content":"h2c "}}]}\n\n');
        st.end(
          'data: {"choices":[{"index":0,"delta":{"content":"answer"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
        );
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const baseURL = `http://127.0.0.1:${server.address().port}/v1`;
      const results = await Promise.all(
        Array.from(
          { length: 10 },
          () => stream({ provider: 'openai', baseURL, apiKey: 'k', body, http2: 'prior-knowledge' }).done,
        ),
      );
      expect(results.map((r) => r.text)).toEqual(Array(10).fill('h2c answer'));
      // libcurl 8 multiplexes h2c on one connection; 7.x (Debian 12) cannot,
      // so there each stream gets its own connection.
      const [major] = require('../..')
        .__bench.curlVersion.match(/libcurl\/(\d+)/)
        .slice(1)
        .map(Number);
      expect(sessions.size).toBe(major >= 8 ? 1 : 10);
    } finally {
      for (const session of sessions) session.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('upstream connections are reused when more streams are in flight than the idle pool holds', async () => {
    // 120 clients, each running 3 streams one after the other, starts spread
    // out as on a busy server. curl counts connections in use against its
    // cache limit: with a fixed limit below the streams in flight, every
    // finished stream's connection was closed and every next stream connected
    // anew (360 connections here instead of about 120).
    const http = require('node:http');
    let connections = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
        setTimeout(
          () =>
            res.end(
              'data: {"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
            ),
          40,
        );
      });
    });
    server.on('connection', () => connections++);
    server.keepAliveTimeout = 60_000;
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const baseURL = `http://127.0.0.1:${server.address().port}/v1`;
      const clients = 120;
      const texts = await Promise.all(
        Array.from({ length: clients }, async (_, k) => {
          await new Promise((r) => setTimeout(r, k));
          let text = '';
          for (let i = 0; i < 3; i++)
            text += (await stream({ provider: 'openai', baseURL, apiKey: 'k', body }).done).text;
          return text;
        }),
      );
      expect(texts).toEqual(Array(clients).fill('ababab'));
      expect(connections).toBeGreaterThanOrEqual(1);
      expect(connections).toBeLessThan(clients * 1.5);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }, 30000);

  test('500 concurrent streams all arrive whole', async () => {
    const mock = await startMockProvider({
      provider: 'openai',
      script: (req) => ({
        tokens: Array.from({ length: 20 }, (_, i) => `${req.body.messages[0].content}-${i} `),
        delayMs: 2,
      }),
    });
    try {
      const n = 500;
      const runs = Array.from({ length: n }, async (_, k) => {
        const s = stream({
          provider: 'openai',
          baseURL: mock.baseURL('openai'),
          apiKey: 'k',
          body: { model: 'm', messages: [{ role: 'user', content: `s${k}` }] },
        });
        let text = '';
        for await (const d of s) if (d.type === 'text') text += d.text;
        return text === Array.from({ length: 20 }, (_, i) => `s${k}-${i} `).join('');
      });
      const ok = await Promise.all(runs);
      expect(ok.filter(Boolean).length).toBe(n);
    } finally {
      await mock.close();
    }
  }, 60000);

  test('a slow reader pauses the transfer: memory stays bounded and nothing is lost', async () => {
    const token = 'y'.repeat(1000);
    const count = 50000; // 50 MB of text held in this process if nothing paused it
    // The mock runs in its own process: only this process's memory is measured.
    const { fork } = require('node:child_process');
    const child = fork(path.join(__dirname, '..', 'helpers', 'mock-child.js'));
    child.send({ provider: 'openai', script: { eventsPerWrite: 50 }, repeat: { token, count } });
    const exited = new Promise((r) => child.once('exit', r));
    let reader;
    try {
      const { baseURL } = await new Promise((resolve) => child.once('message', resolve));
      const s = stream({ provider: 'openai', baseURL, apiKey: 'k', body, timeouts: { idleMs: 0 } });
      reader = s.getReader();
      const first = await reader.read();
      const rss0 = process.memoryUsage().rss;
      await new Promise((r) => setTimeout(r, 200)); // the pause reaches the worker
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, 1000)); // the reader stalls
      const cpu = process.cpuUsage(cpu0);
      const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
      const grown = process.memoryUsage().rss - rss0;
      // Paused, the worker sleeps: a bug check, not a benchmark. A worker
      // spinning on curl's timer (libcurl 8, issue 9 item 13) burns a whole
      // core here; the mock runs in another process.
      // Under a sanitizer (CI's asan stage preloads its runtime) CPU time and RSS measure the
      // sanitizer: there this test checks the pause and the data, the normal run checks the numbers.
      const sanitized = /lib[at]san/.test(process.env.LD_PRELOAD || '');
      if (!sanitized) expect((cpu.user + cpu.system) / wallUs).toBeLessThan(0.3);
      // Paused: the mock is still blocked on its writes (50 MB of text is far more than the loopback
      // buffers hold).
      child.send('requests');
      const [request] = await new Promise((resolve) => child.once('message', resolve));
      expect(request.completed).toBe(false);
      // What stays is a bounded queue plus in-flight batches and not yet collected garbage (13 MB
      // typically, 29 MB seen on a loaded machine); unpaused it would be 50 MB of text and more.
      if (!sanitized) expect(grown).toBeLessThan(40 * 1024 * 1024);
      // Fragments of one batch arrive merged: count characters, not deltas.
      let received = first.value.text.length;
      let wrong = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value.type === 'text') {
          received += value.text.length;
          if (!/^y*$/.test(value.text)) wrong++;
        }
      }
      expect(wrong).toBe(0);
      expect(received).toBe(count * token.length);
    } finally {
      // A failed check must not leave a paused stream and the mock's process holding Jest open.
      if (reader !== undefined) await reader.cancel().catch(() => {});
      child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
    }
  }, 60000);

  test('the addon loads in two worker_threads at once, streams in both, and tears down cleanly', async () => {
    const mock = await startMockProvider({ provider: 'openai', script: { tokens: 'from a worker', delayMs: 5 } });
    try {
      const run = () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(path.join(__dirname, '..', 'helpers', 'stream-worker.js'), {
            workerData: { baseURL: mock.baseURL('openai') },
          });
          let text;
          worker.once('message', (m) => {
            text = m;
          });
          worker.once('error', reject);
          worker.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`worker exited ${code}`))));
        });
      expect(await Promise.all([run(), run()])).toEqual(['from a worker', 'from a worker']);
      // A worker terminated mid-stream frees its engine too.
      const worker = new Worker(path.join(__dirname, '..', 'helpers', 'stream-worker.js'), {
        workerData: { baseURL: mock.baseURL('openai'), hold: true },
      });
      await new Promise((r) => worker.once('message', r));
      const code = await worker.terminate();
      expect(code).toBe(1);
    } finally {
      await mock.close();
    }
  });

  test('a finished stream nobody consumed does not keep the process alive', async () => {
    const mock = await startMockProvider({ provider: 'openai', script: { tokens: 'never read' } });
    try {
      const script = `
        const { stream } = require(${JSON.stringify(path.join(__dirname, '..', '..'))});
        stream({ provider: 'openai', baseURL: ${JSON.stringify(mock.baseURL('openai'))}, apiKey: 'k', body: {} });
        setTimeout(() => console.log('answer arrived, nobody read it'), 300);`;
      const t0 = Date.now();
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(0);
      expect(out.trim()).toBe('answer arrived, nobody read it');
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await mock.close();
    }
  });

  test('a process that used the addon exits promptly, even with a stream in flight', async () => {
    const mock = await startMockProvider({ provider: 'openai', script: { tokens: 'x y z', stallAfter: 1 } });
    try {
      const script = `
        const { stream } = require(${JSON.stringify(path.join(__dirname, '..', '..'))});
        const s = stream({ provider: 'openai', baseURL: ${JSON.stringify(mock.baseURL('openai'))}, apiKey: 'k', body: {model:'m',messages:[]} });
        const r = s.getReader();
        r.read().then(() => { console.log('first'); process.exit(0); });`;
      const t0 = Date.now();
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(0);
      expect(out.trim()).toBe('first');
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await mock.close();
    }
  });
});

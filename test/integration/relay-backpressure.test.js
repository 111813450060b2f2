'use strict';

// A client that stops reading must not make the relay buffer the whole answer:
// pipe() pauses the provider transfer when res.write() returns false and
// resumes it on 'drain'. A raw socket that never reads is the slow client; the
// mock provider sends a large answer as fast as it can.

const { startServer, startMockProvider, mockStream, sleep, stalledReader } = require('./relay-helpers');

const TOKEN = 'x'.repeat(1000);
// ~40 MB of text, ~53 MB on the upstream wire: well above what the loopback
// socket buffers can absorb (with autotuning, up to ~6 MB received and ~4 MB
// sent per socket: about 20 MB over the four sockets between the mock and the
// client), so the mock must stall.
const TOKENS = 40_000;
const TOTAL_TEXT_BYTES = TOKENS * TOKEN.length;

const cleanups = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()();
});

test('a client that stops reading pauses the upstream transfer and keeps memory bounded', async () => {
  const mock = await startMockProvider({
    provider: 'openai',
    script: { tokens: Array.from({ length: TOKENS }, () => TOKEN) },
  });
  cleanups.push(() => mock.close());
  let written = 0;
  const results = [];
  const server = await startServer((req, res) => {
    // Count what the relay hands to the response (instrumentation only).
    const write = res.write;
    res.write = function countingWrite(chunk, ...rest) {
      written += chunk.length;
      return write.call(this, chunk, ...rest);
    };
    results.push(
      mockStream(mock)
        .pipe(res)
        .then(
          (summary) => ({ summary }),
          (error) => ({ error }),
        ),
    );
  });
  cleanups.push(() => server.close());

  // Read until the first token arrived (the mock has built its answer by
  // then), then stop reading for good.
  const client = await stalledReader(server.port);
  cleanups.push(() => client.socket.destroy());

  global.gc?.();
  const before = process.memoryUsage();
  // Wait until the relay stops writing: it has paused the provider.
  let last = -1;
  let stableSince = Date.now();
  for (let i = 0; i < 100 && Date.now() - stableSince < 600; i++) {
    await sleep(100);
    if (written !== last) {
      last = written;
      stableSince = Date.now();
    }
  }
  const after = process.memoryUsage();
  const [request] = mock.requests;

  // Paused, nothing runs: neither the worker (a spin on curl's timer burns a
  // core: libcurl 8, issue 9 item 13) nor the stalled mock. A bug check.
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(1000);
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  expect((cpu.user + cpu.system) / wallUs).toBeLessThan(0.3);

  expect(Date.now() - stableSince).toBeGreaterThanOrEqual(600); // the writes did stop
  expect(written).toBeLessThan(TOTAL_TEXT_BYTES / 2);
  expect(request.completed).toBe(false); // the mock's own writes are stalled
  // Generous bounds: without the pause the whole answer (40 MB) would pile up.
  expect(after.rss - before.rss).toBeLessThan(48 * 1024 * 1024);
  expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(12 * 1024 * 1024);

  // Reading again resumes the transfer and the whole answer arrives intact.
  const raw = await client.readToEnd(20000);
  expect(raw.endsWith('data: [DONE]\n\n\r\n0\r\n\r\n')).toBe(true);
  const { summary } = await results[0];
  expect(summary.text.length).toBe(TOTAL_TEXT_BYTES);
  expect(request.completed).toBe(true);
  expect(client.bytes()).toBeGreaterThan(TOTAL_TEXT_BYTES);
});

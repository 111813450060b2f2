'use strict';

// useStream (llm-relay/react) in headless Chromium against a real relay: a node:http server that
// pipes stream() from the mock provider, and one that writes `data` deltas by hand. The page
// (test/browser/react-app.mjs) is bundled with esbuild at test time, React in its production
// build, and logs every render with the animation frame it happened in.

const path = require('node:path');
const esbuild = require('esbuild');
const { startServer, startMockProvider, mockStream, within, sleep } = require('./relay-helpers');
const { launchChromium, newWatchedPage } = require('../helpers/chromium');
const { createMemoryStore } = require('../../lib');

const ROOT = path.join(__dirname, '..', '..');
const PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><div id="root"></div><script type="module" src="/app.js"></script></body></html>';

let bundle;
let mock;
let server;
let browser;
let page;
const pageErrors = [];

/** The mock's script is the JSON the page sends as `script`. */
function chatRoute(req, res, body) {
  const { script } = JSON.parse(body);
  mockStream(mock, {
    body: { model: 'm', messages: [{ role: 'user', content: JSON.stringify(script) }] },
    retry: false,
  })
    .pipe(res)
    .catch(() => {});
}

/** The Next.js example's conversation: the mock echoes the last user turn, slowly. */
function nextRoute(req, res, body) {
  const { messages } = JSON.parse(body);
  const script = {
    tokens: `You asked: ${messages[messages.length - 1].content}. ${'and so on '.repeat(60)}`.trim(),
    delayMs: 10,
  };
  mockStream(mock, {
    body: { model: 'm', messages: [{ role: 'user', content: JSON.stringify(script) }, ...messages] },
    retry: false,
  })
    .pipe(res)
    .catch(() => {});
}

/** Multi-step events as a later relay writes them: `data` deltas around the text. */
function dataRoute(req, res) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const events = [
    { type: 'data', name: 'status', data: { step: 1 } },
    { type: 'text', text: 'Looking it up… ' },
    { type: 'tool-call', index: 0, id: 'call_1', name: 'search', argumentsDelta: '{"q":' },
    { type: 'tool-call', index: 0, argumentsDelta: '"weather"}' },
    { type: 'data', name: 'tool-result', data: { temperature: 21 } },
    { type: 'reasoning', text: 'It is mild.' },
    { type: 'text', text: 'It is 21 °C.' },
    { type: 'finish', reason: 'stop' },
  ];
  let i = 0;
  const timer = setInterval(() => {
    if (i < events.length) {
      res.write(`data: ${JSON.stringify(events[i++])}\n\n`);
    } else {
      clearInterval(timer);
      res.end('data: [DONE]\n\n');
    }
  }, 10);
  res.on('close', () => clearInterval(timer));
}

let nextPage; // examples/nextjs/app/page.jsx, bundled
const resumeStore = createMemoryStore();
let resumeCount = 0; // requests to the resume route, with Last-Event-ID

/** A resumable relay whose connection drops 300 ms in; /api/resumable/stream sends the rest. */
function resumableRoute(req, res, body) {
  const { script } = JSON.parse(body);
  setTimeout(() => req.socket.destroy(), 300);
  mockStream(mock, {
    body: { model: 'm', messages: [{ role: 'user', content: JSON.stringify(script) }] },
    retry: false,
  })
    .pipe(res, { resume: { store: resumeStore, id: 'react-1' } })
    .catch(() => {});
}

beforeAll(async () => {
  const next = await esbuild.build({
    stdin: {
      contents:
        "import { createRoot } from 'react-dom/client'; import Page from './app/page.jsx'; createRoot(document.getElementById('root')).render(<Page />);",
      resolveDir: path.join(ROOT, 'examples/nextjs'),
      loader: 'jsx',
    },
    bundle: true,
    format: 'esm',
    write: false,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    // The example links llm-relay with file:../.. once installed; here the repository is the package.
    alias: { 'llm-relay/react': path.join(ROOT, 'lib/react.mjs') },
    nodePaths: [path.join(ROOT, 'node_modules')],
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  nextPage = next.outputFiles[0].text;
  const built = await esbuild.build({
    entryPoints: [path.join(ROOT, 'test/browser/react-app.mjs')],
    bundle: true,
    format: 'esm',
    write: false,
    minify: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  bundle = built.outputFiles[0].text;
  mock = await startMockProvider({
    provider: 'openai',
    script: (request) => JSON.parse(request.body.messages[0].content),
  });
  server = await startServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (req.method === 'GET' && req.url === '/app.js')
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    if (req.method === 'GET' && req.url === '/next')
      return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE.replace('/app.js', '/next.js'));
    if (req.method === 'GET' && req.url === '/next.js')
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(nextPage);
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/api/chat' && JSON.parse(body).messages) nextRoute(req, res, body);
      else if (req.url === '/api/chat') chatRoute(req, res, body);
      else if (req.url === '/api/data') dataRoute(req, res);
      else if (req.url === '/api/resumable') resumableRoute(req, res, body);
      else if (req.url === '/api/resumable/stream') {
        resumeCount++;
        resumeStore
          .resume('react-1', { lastEventId: req.headers['last-event-id'] })
          .pipe(res)
          .catch(() => {});
      } else res.writeHead(404).end();
    });
    return undefined;
  });
  browser = await launchChromium();
  page = await newWatchedPage(browser, pageErrors);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([browser && browser.close()]);
  if (server) await server.close();
  if (mock) await mock.close();
  await resumeStore.close();
});

/** A fresh page with the component mounted with `options`. */
async function mount(options, strict = false) {
  await page.goto(server.url);
  await page.waitForFunction(() => window.__ready === true);
  await page.evaluate(([o, s]) => window.__test.mount(o, s), [options, strict]);
  await page.waitForFunction(() => document.getElementById('answer') !== null);
}

const send = (body) => page.evaluate((b) => window.__test.send(b), body);
const state = () => page.evaluate(() => window.__test.state());
const waitForStatus = (status, timeout = 20_000) =>
  page.waitForFunction((s) => document.getElementById('answer')?.dataset.status === s, status, { timeout });

function slowScript(n = 400) {
  return { tokens: Array.from({ length: n }, (_, i) => `w${i} `), delayMs: 15 };
}

test('a 10,000-token answer renders exactly, with at most one render per animation frame', async () => {
  await mount({ api: '/api/chat' });
  const tokens = Array.from({ length: 10_000 }, (_, i) => (i % 17 === 0 ? `\n${i}é ` : `t${i} `));
  await send({ script: { tokens, eventsPerWrite: 4, delayMs: 1 } });
  await waitForStatus('done', 60_000);
  const s = await state();
  expect(s.text).toBe(tokens.join(''));
  expect(s.error).toBeUndefined();

  const { renders, finished, frame } = await page.evaluate(() => window.__test.log());
  const streaming = renders.filter((r) => r.status === 'streaming' || r.status === 'done');
  const frames = new Map();
  for (const r of streaming) frames.set(r.frame, (frames.get(r.frame) || 0) + 1);
  const perFrameMax = Math.max(...frames.values());
  const first = streaming[0].frame;
  const last = streaming[streaming.length - 1].frame;
  if (process.env.LLM_RELAY_REPORT) {
    console.log(
      `useStream 10k tokens: ${streaming.length} renders over ${last - first + 1} animation frames (max ${perFrameMax} per frame)`,
    );
  }
  expect(perFrameMax).toBe(1);
  expect(streaming.length).toBeLessThanOrEqual(last - first + 1);
  // The text only ever grew, and the last render holds all of it.
  for (let i = 1; i < streaming.length; i++)
    expect(streaming[i].length).toBeGreaterThanOrEqual(streaming[i - 1].length);
  expect(streaming[streaming.length - 1].length).toBe(s.text.length);
  expect(finished).toHaveLength(1);
  expect(finished[0].text).toBe(s.text);
  expect(finished[0].finishReason).toBe('stop');
  expect(frame).toBeGreaterThan(last - 1);
}, 90_000);

test('send() while an answer streams aborts it (its provider request closes) and shows only the new one', async () => {
  await mount({ api: '/api/chat' });
  const before = mock.requests.length;
  await send({ script: slowScript() });
  await page.waitForFunction(() => document.getElementById('answer').textContent.length > 20);
  const [first] = (await mock.waitForRequests(before + 1)).slice(before);
  await send({ script: { tokens: ['second ', 'answer'], delayMs: 5 } });
  await within(first.closed, 3000, 'the first provider request closing');
  expect(first.completed).toBe(false);
  await waitForStatus('done');
  const s = await state();
  expect(s.text).toBe('second answer');
});

test('stop() keeps what arrived, shows stopped, and the provider request closes', async () => {
  await mount({ api: '/api/chat' });
  const before = mock.requests.length;
  await send({ script: slowScript() });
  await page.waitForFunction(() => document.getElementById('answer').textContent.length > 20);
  const [record] = (await mock.waitForRequests(before + 1)).slice(before);
  await page.evaluate(() => window.__test.stop());
  await waitForStatus('stopped');
  await within(record.closed, 3000, 'the provider request closing');
  expect(record.completed).toBe(false);
  const s = await state();
  expect(slowScript().tokens.join('').startsWith(s.text)).toBe(true);
  expect(s.text.length).toBeGreaterThan(20);
  await sleep(200);
  expect((await state()).text).toBe(s.text);
});

test('unmounting aborts the answer in flight', async () => {
  await mount({ api: '/api/chat' }, true);
  const before = mock.requests.length;
  await send({ script: slowScript() });
  await page.waitForFunction(() => document.getElementById('answer').textContent.length > 20);
  const [record] = (await mock.waitForRequests(before + 1)).slice(before);
  await page.evaluate(() => window.__test.unmount());
  await within(record.closed, 3000, 'the provider request closing');
  expect(record.completed).toBe(false);
  expect(pageErrors).toEqual([]);
});

test('a rate limit becomes status error with the RelayError code, status and retryAfterMs', async () => {
  await mount({ api: '/api/chat' });
  await send({ script: { status: 429, headers: { 'retry-after': '20' } } });
  await waitForStatus('error');
  const s = await state();
  expect(s.error).toEqual({
    name: 'RelayError',
    code: 'HTTP_STATUS',
    status: 429,
    retryAfterMs: 20000,
    message: 'The provider answered HTTP 429',
    isRelayError: true,
  });
  const { finished } = await page.evaluate(() => window.__test.log());
  expect(finished).toEqual([]);
});

test('data deltas, tool calls and reasoning are collected in order', async () => {
  await mount({ api: '/api/data' });
  await send({});
  await waitForStatus('done');
  const s = await state();
  expect(s.text).toBe('Looking it up… It is 21 °C.');
  expect(s.reasoning).toBe('It is mild.');
  expect(s.data).toEqual([
    { name: 'status', data: { step: 1 } },
    { name: 'tool-result', data: { temperature: 21 } },
  ]);
  expect(s.toolCalls).toEqual([{ index: 0, id: 'call_1', name: 'search', arguments: '{"q":"weather"}' }]);
});

test('batchMs commits at a fixed interval instead of per frame', async () => {
  await mount({ api: '/api/chat', batchMs: 100 });
  const tokens = Array.from({ length: 150 }, (_, i) => `b${i} `);
  await send({ script: { tokens, delayMs: 5 } });
  await waitForStatus('done');
  expect((await state()).text).toBe(tokens.join(''));
  const { renders } = await page.evaluate(() => window.__test.log());
  const streaming = renders.filter((r) => r.status === 'streaming' || r.status === 'done');
  // About 1 s of streaming at one commit per 100 ms: far fewer renders than frames or tokens.
  const spanMs = streaming[streaming.length - 1].at - streaming[0].at;
  expect(streaming.length).toBeLessThanOrEqual(Math.ceil(spanMs / 100) + 2);
  for (let i = 1; i < streaming.length; i++) expect(streaming[i].at - streaming[i - 1].at).toBeGreaterThan(80);
});

test('the Next.js example page: ask, interrupt by asking again, stop', async () => {
  await page.goto(`${server.url}/next`);
  const before = mock.requests.length;
  await page.fill('input', 'first');
  await page.click('text=Send');
  await page.waitForFunction(() => (document.querySelector('.live')?.textContent || '').length > 40);
  const [first] = (await mock.waitForRequests(before + 1)).slice(before);
  await page.fill('input', 'second');
  await page.click('text=Send');
  await within(first.closed, 3000, 'the interrupted provider request closing');
  expect(first.completed).toBe(false);
  await page.waitForFunction(() => document.querySelector('.live')?.textContent.startsWith('You asked: second.'));
  // The interrupted answer joined the conversation, between the two questions.
  const turns = await page.$$eval('.msg:not(.live)', (els) => els.map((e) => e.className.split(' ')[1]));
  expect(turns).toEqual(['user', 'assistant', 'user']);
  const [, second] = (await mock.waitForRequests(before + 2)).slice(before);
  expect(second.body.messages.slice(1).map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  await page.click('text=Stop');
  await page.waitForFunction(() => document.querySelector('.live')?.dataset.status === 'stopped');
  await expect(page.locator('#status').textContent()).resolves.toBe('Stopped.');
  expect(pageErrors).toEqual([]);
});

test('resume: a connection that drops mid-answer is resumed through readStream; the text is whole and in order', async () => {
  await mount({ api: '/api/resumable', resume: { url: '/api/resumable/stream', delayMs: 20 } });
  const script = slowScript(60);
  await send({ script });
  await waitForStatus('done');
  const s = await state();
  expect(s.error).toBeUndefined();
  expect(s.text).toBe(script.tokens.join(''));
  expect(resumeCount).toBe(1);
});

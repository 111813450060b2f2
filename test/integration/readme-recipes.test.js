'use strict';

// The README's "Recipes" (and the Next.js section's client component), run as written: every
// `// server` block is evaluated against one Express app (with `app`, `server`, `express`,
// `stream` and `require` in scope, as the README says), pointed at the mock provider through
// OPENAI_BASE_URL; every `// browser` block runs in headless Chromium, as a module script (import
// map for llm-relay/client) or, for JSX, bundled with esbuild and rendered with React.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const esbuild = require('esbuild');
const express = require('express');
const { stream } = require('../../lib');
const { startMockProvider } = require('../../lib/testing');
const { launchChromium } = require('../helpers/chromium');

const ROOT = path.join(__dirname, '..', '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const dir = path.join(ROOT, 'test', '.readme-recipes'); // inside the package: 'llm-relay' resolves to it
const ANSWER = 'Straight from the README';

/** The fenced blocks of a README section, from `heading` to the next heading of that level. */
function section(heading) {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no section ${heading}`);
  const level = heading.split(' ')[0];
  const rest = readme.slice(at + heading.length + 2);
  const end = rest.search(new RegExp(`\\n${level} `));
  return end < 0 ? rest : rest.slice(0, end);
}

function blocks(text) {
  return [...text.matchAll(/```(js|jsx)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }));
}

/** Recipes by name: { server?: code, browser: { lang, code } }. */
function recipes() {
  const out = {};
  for (const part of section('## Recipes').split('\n### ').slice(1)) {
    const name = part.slice(0, part.indexOf('\n'));
    const recipe = {};
    for (const b of blocks(part)) {
      if (b.code.startsWith('// server')) recipe.server = b.code;
      else if (b.code.startsWith('// browser')) recipe.browser = b;
    }
    out[name] = recipe;
  }
  return out;
}

const RECIPES = recipes();
const savedEnv = {};
let mock;
let app;
let server;
let baseURL;
let browser;
const pages = new Map(); // path → html
let slow = false;
const drops = new Set(); // route prefixes whose next start is cut
const resumed = []; // the reconnects the resume recipes made
const scripts = new Map(); // path → bundled js
let jsxCount = 0;

/** A page that runs `browser` (a recipe's browser block); returns its path. */
async function pageFor(name, browserBlock) {
  const file = `/recipe/${encodeURIComponent(name)}`;
  if (browserBlock.lang === 'js') {
    pages.set(
      file,
      `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "llm-relay/client": "/llm-relay/client/index.mjs" } }</script>
<pre id="output"></pre>
<script type="module">${browserBlock.code}</script>`,
    );
    return file;
  }
  const n = ++jsxCount;
  fs.writeFileSync(path.join(dir, `component-${n}.jsx`), browserBlock.code);
  fs.writeFileSync(
    path.join(dir, `entry-${n}.jsx`),
    `import { createRoot } from 'react-dom/client';
import Component from './component-${n}.jsx';
createRoot(document.getElementById('root')).render(<Component />);`,
  );
  const built = await esbuild.build({
    entryPoints: [path.join(dir, `entry-${n}.jsx`)],
    bundle: true,
    format: 'esm',
    write: false,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  scripts.set(`/bundle-${n}.js`, built.outputFiles[0].text);
  pages.set(
    file,
    `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="/bundle-${n}.js"></script>`,
  );
  return file;
}

beforeAll(async () => {
  fs.mkdirSync(dir, { recursive: true });
  // `slow`: the next answers come 200 ms per token, so a resume recipe can lose its connection mid-answer.
  mock = await startMockProvider({
    provider: 'openai',
    script: () => ({ tokens: ['Straight ', 'from ', 'the ', 'README'], delayMs: slow ? 200 : 5 }),
  });
  for (const key of ['OPENAI_BASE_URL', 'OPENAI_API_KEY']) savedEnv[key] = process.env[key];
  process.env.OPENAI_BASE_URL = mock.baseURL('openai');
  process.env.OPENAI_API_KEY = 'sk-test';

  app = express();
  server = http.createServer(app);
  app.get('/recipe/:name', (req, res) =>
    res.type('html').send(pages.get(`/recipe/${encodeURIComponent(req.params.name)}`)),
  );
  app.get('/bundle-:n.js', (req, res) => res.type('text/javascript').send(scripts.get(req.path)));
  // The resume recipes' first request loses its connection 500 ms in (after two tokens of a slow
  // answer); reconnects (with Last-Event-ID) are counted.
  app.use((req, res, next) => {
    const route = ['/api/story/', '/api/chats/'].find((prefix) => req.path.startsWith(prefix));
    if (route === undefined) return next();
    if (req.get('last-event-id') !== undefined || req.path.endsWith('/stream')) {
      resumed.push(`${req.method} ${req.path} ${req.get('last-event-id')}`);
    } else if (drops.has(route)) {
      drops.delete(route);
      setTimeout(() => req.socket.destroy(), 500);
    }
    next();
  });
  app.use(
    '/llm-relay/client',
    express.static(path.join(ROOT, 'lib/client'), {
      index: false,
      setHeaders: (res) => res.set('Content-Type', 'text/javascript'),
    }),
  );
  for (const [name, recipe] of Object.entries(RECIPES)) {
    if (!recipe.server) continue;
    try {
      // eslint-disable-next-line no-new-func
      new Function('app', 'server', 'express', 'stream', 'require', recipe.server)(
        app,
        server,
        express,
        stream,
        require,
      );
    } catch (err) {
      throw new Error(`The server part of the ${name} recipe failed: ${err.message}`);
    }
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([browser && browser.close()]);
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  if (mock) await mock.close();
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens the recipe's page (clicking Send for a component) and returns the answer it shows. */
async function run(name, browserBlock) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  try {
    await page.goto(baseURL + (await pageFor(name, browserBlock)));
    if (browserBlock.lang === 'jsx') await page.click('text=Send');
    await page.waitForFunction((answer) => document.querySelector('#output')?.textContent === answer, ANSWER, {
      timeout: 15_000,
    });
    return { page, errors };
  } catch (err) {
    throw new Error(`${err.message}; page errors: ${errors.join(' | ') || 'none'}`);
  }
}

test('the README has the recipes the docs promise, each with a browser part', () => {
  expect(Object.keys(RECIPES)).toEqual([
    'EventSource (GET)',
    'fetch (POST)',
    'Without a bundler (11 lines)',
    'React',
    'WebSocket',
    'Resume (EventSource)',
    'Resume (fetch)',
    'Agent steps',
  ]);
  for (const recipe of Object.values(RECIPES)) expect(recipe.browser).toBeDefined();
});

test('EventSource (GET): the answer arrives and the page does not reconnect after [DONE]', async () => {
  const before = mock.requests.length;
  const { page, errors } = await run('EventSource (GET)', RECIPES['EventSource (GET)'].browser);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(mock.requests.length).toBe(before + 1);
  expect(mock.requests[before].body.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  expect(errors).toEqual([]);
  await page.close();
});

test('fetch (POST) with readStream and only: text', async () => {
  const { page, errors } = await run('fetch (POST)', RECIPES['fetch (POST)'].browser);
  expect(errors).toEqual([]);
  await page.close();
});

test('the vanilla reader without a bundler fits in 11 lines and reads the answer', async () => {
  const { code } = RECIPES['Without a bundler (11 lines)'].browser;
  expect(code.trim().split('\n').slice(1).length).toBeLessThanOrEqual(11); // after the `// browser` line
  const { page, errors } = await run('Without a bundler (11 lines)', RECIPES['Without a bundler (11 lines)'].browser);
  expect(errors).toEqual([]);
  await page.close();
});

test('React: the useStream component renders the answer', async () => {
  const { page, errors } = await run('React', RECIPES.React.browser);
  // The last text can render a frame before the status does.
  await page.waitForFunction(() => document.querySelector('#output').dataset.status === 'done', undefined, {
    timeout: 5000,
  });
  expect(errors).toEqual([]);
  await page.close();
});

test('WebSocket: readWebSocket reads what pipeWebSocket sends', async () => {
  const { page, errors } = await run('WebSocket', RECIPES.WebSocket.browser);
  expect(errors).toEqual([]);
  await page.close();
});

test("the Next.js section's client component renders the answer from /api/chat", async () => {
  const [component] = blocks(section('## Next.js route handler (10 lines)')).filter((b) => b.lang === 'jsx');
  expect(component.code.startsWith("// app/chat.jsx\n'use client';")).toBe(true);
  const { page, errors } = await run('Next.js', component);
  expect(errors).toEqual([]);
  await page.close();
});

test('Resume (EventSource): the connection drops mid-answer, EventSource reconnects by itself and the route resumes; the model is asked once', async () => {
  const before = mock.requests.length;
  slow = true;
  drops.add('/api/story/');
  resumed.length = 0;
  try {
    const { page, errors } = await run('Resume (EventSource)', RECIPES['Resume (EventSource)'].browser);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(errors).toEqual([]);
    expect(drops.size).toBe(0); // the drop happened
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatch(/^GET \/api\/story\/[0-9a-f-]+ \d+$/);
    expect(mock.requests.length).toBe(before + 1);
    await page.close();
  } finally {
    slow = false;
  }
});

test('Resume (fetch): readStream reconnects to the resume route with Last-Event-ID; every word once', async () => {
  const before = mock.requests.length;
  slow = true;
  drops.add('/api/chats/');
  resumed.length = 0;
  try {
    const { page, errors } = await run('Resume (fetch)', RECIPES['Resume (fetch)'].browser);
    expect(errors).toEqual([]);
    expect(drops.size).toBe(0);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatch(/^GET \/api\/chats\/[0-9a-f-]+\/stream \d+$/);
    expect(mock.requests.length).toBe(before + 1);
    await page.close();
  } finally {
    slow = false;
  }
});

test('Agent steps: two forwarded steps and the app events between them in one response', async () => {
  const before = mock.requests.length;
  const { page, errors } = await run('Agent steps', RECIPES['Agent steps'].browser);
  await page.waitForFunction(() => document.querySelector('#output').dataset.events !== undefined, undefined, {
    timeout: 5000,
  });
  expect(await page.evaluate(() => document.querySelector('#output').dataset.events)).toBe('status,tool-result');
  expect(errors).toEqual([]);
  expect(mock.requests.length).toBe(before + 2);
  expect(mock.requests[before + 1].body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  await page.close();
});

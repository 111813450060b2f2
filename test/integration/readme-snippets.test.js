'use strict';

// The README's Express and Next.js snippets, run exactly as written (pointed
// at the mock provider through OPENAI_BASE_URL / ANTHROPIC_BASE_URL, as a
// user would point them at a gateway).

const fs = require('node:fs');
const { freePort } = require('../helpers/system');
const path = require('node:path');
const { spawn, execFile } = require('node:child_process');
const { startMockProvider } = require('../../lib/testing');

const root = path.join(__dirname, '..', '..');
const dir = path.join(root, 'test', '.readme-snippets'); // inside the package: 'llm-relay' resolves to it
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function snippet(heading) {
  const at = readme.indexOf(heading);
  if (at < 0) throw new Error(`README has no section ${heading}`);
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
  return match[1];
}

async function sseText(response) {
  const body = await response.text();
  return body
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)))
    .filter((d) => d.type === 'text')
    .map((d) => d.text)
    .join('');
}

let mock;
beforeAll(async () => {
  fs.mkdirSync(dir, { recursive: true });
  mock = await startMockProvider({ script: { tokens: ['Straight ', 'from ', 'the ', 'README'] } });
});
afterAll(async () => {
  await mock.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the Express snippet streams an answer', async () => {
  const code = snippet('## Express (10 lines)');
  expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
  const file = path.join(dir, 'express-app.js');
  fs.writeFileSync(file, code);
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, PORT: String(port), OPENAI_BASE_URL: mock.baseURL('openai'), OPENAI_API_KEY: 'sk-test' },
    stdio: 'inherit',
  });
  try {
    let response;
    for (let i = 0; i < 100 && response === undefined; i++) {
      try {
        response = await fetch(`http://127.0.0.1:${port}/api/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
        });
      } catch {
        await new Promise((r) => setTimeout(r, 50)); // not listening yet
      }
    }
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await sseText(response)).toBe('Straight from the README');
  } finally {
    child.kill();
  }
});

test('the Next.js route handler snippet returns a streaming Response', async () => {
  const code = snippet('## Next.js route handler (10 lines)');
  expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
  fs.writeFileSync(path.join(dir, 'route.mjs'), code);
  fs.writeFileSync(
    path.join(dir, 'call-route.mjs'),
    `import { POST } from './route.mjs';
const res = await POST(new Request('http://localhost/api/chat', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) }));
process.stdout.write(res.headers.get('content-type') + '\\n' + await res.text());`,
  );
  const out = await new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(dir, 'call-route.mjs')],
      {
        env: { ...process.env, ANTHROPIC_BASE_URL: mock.baseURL('anthropic'), ANTHROPIC_API_KEY: 'test' },
        timeout: 20000,
      },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
  const [contentType, ...rest] = out.split('\n');
  expect(contentType).toBe('text/event-stream; charset=utf-8');
  expect(await sseText(new Response(rest.join('\n')))).toBe('Straight from the README');
  expect(mock.requests.some((r) => r.path === '/v1/messages' && r.headers['x-api-key'] === 'test')).toBe(true);
});

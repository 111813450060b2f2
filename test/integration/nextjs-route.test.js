'use strict';

// examples/nextjs/app/api/chat/route.js, imported and called as Next.js would: an ES module whose
// POST(req) gets a real web Request and returns a Response. It runs in a child Node process (Jest's
// module sandbox cannot import ESM without --experimental-vm-modules) against the mock provider.
//
// The example's own package.json links llm-relay with "file:../..", which is not installed here;
// a resolve hook sends 'llm-relay' and 'llm-relay/*' to this repository, which is what that link
// does once `npm install` has run in the example.

const { spawn } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { startMockProvider } = require('llm-relay/testing');
const { sseJson } = require('../helpers/sse');

const ROOT = path.join(__dirname, '../..');
const ROUTE = path.join(ROOT, 'examples/nextjs/app/api/chat/route.js');

// Resolves the package's name as if imported from inside the package (its self-reference).
const HOOKS = `
const parentURL = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'lib/index.mjs')).href)};
export async function resolve(specifier, context, next) {
  if (specifier === 'llm-relay' || specifier.startsWith('llm-relay/')) return next(specifier, { ...context, parentURL });
  return next(specifier, context);
}`;
const REGISTER = `
import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

// Calls POST with a Request built from argv; prints the status, the headers and the body. With
// abortAfterFirstChunk, aborts the request's signal once the first body chunk arrived, as Next.js
// does when the browser leaves.
const CALL_ROUTE = `
const [routePath, bodyText, mode] = process.argv.slice(1);
const { POST, runtime } = await import(new URL('file://' + routePath).href);
const controller = new AbortController();
const req = new Request('http://localhost/api/chat', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: bodyText,
  signal: controller.signal,
});
const res = await POST(req);
let body = '';
const reader = res.body.getReader();
const decoder = new TextDecoder();
for (;;) {
  let chunk;
  try {
    chunk = await reader.read();
  } catch (err) {
    body += '[read error ' + err.name + ']';
    break;
  }
  if (chunk.done) break;
  body += decoder.decode(chunk.value, { stream: true });
  if (mode === 'abortAfterFirstChunk' && !controller.signal.aborted) controller.abort(new Error('client left'));
}
process.stdout.write(JSON.stringify({ runtime, status: res.status, headers: Object.fromEntries(res.headers), body }));
`;

function callRoute(env, body, mode = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(REGISTER)}`,
        '--input-type=module',
        '-e',
        CALL_ROUTE,
        ROUTE,
        body,
        mode,
      ],
      { cwd: path.dirname(ROUTE), env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the route process exited with ${code}:\n${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

describe('examples/nextjs route handler', () => {
  let mock;

  beforeAll(async () => {
    mock = await startMockProvider({
      provider: 'openai',
      script: (request, n) =>
        n === 0 ? { tokens: 'Hello from the route.', delayMs: 5 } : { tokens: Array(100).fill(' more'), delayMs: 50 },
    });
  });

  afterAll(async () => {
    if (mock) await mock.close();
  });

  const env = () => ({ OPENAI_BASE_URL: mock.baseURL('openai') });
  const chat = JSON.stringify({ messages: [{ role: 'user', content: 'Hi from Next.js' }] });

  test('POST streams the answer as SSE deltas from a real Request, on the nodejs runtime', async () => {
    const res = await callRoute(env(), chat);
    expect(res.runtime).toBe('nodejs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-accel-buffering']).toBe('no');
    const deltas = sseJson(res.body).map((e) => e.json);
    expect(
      deltas
        .filter((d) => d.type === 'text')
        .map((d) => d.text)
        .join(''),
    ).toBe('Hello from the route.');
    expect(deltas.find((d) => d.type === 'finish')).toMatchObject({ reason: 'stop' });
    expect(res.body.endsWith('data: [DONE]\n\n')).toBe(true);

    const [request] = await mock.waitForRequests(1);
    expect(request.body).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Hi from Next.js' }],
    });
  });

  test('aborting the request signal closes the provider request', async () => {
    const res = await callRoute(env(), chat, 'abortAfterFirstChunk');
    expect(res.status).toBe(200);
    const [, request] = await mock.waitForRequests(2);
    await request.closed;
    expect(request.endedByClient).toBe(true);
    expect(request.completed).toBe(false);
    // The child read on after aborting: the body ended early, without the end marker.
    expect(res.body).not.toContain('data: [DONE]');
  });

  test('a body without messages gets a 400 and no provider request', async () => {
    const before = mock.requests.length;
    const res = await callRoute(env(), JSON.stringify({ prompt: 'no messages' }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/messages/);
    expect(mock.requests).toHaveLength(before);
  });
});

'use strict';

// examples/nextjs's resumable route pair, imported and called as Next.js would (an ES module
// whose POST(req) / GET(req, { params }) get a real web Request), in one child Node process (as
// nextjs-route.test.js does; one process, so both routes share the example's store): the browser
// leaves after a few events, comes back with Last-Event-ID, and gets exactly the rest.

const { spawn } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { startMockProvider } = require('llm-relay/testing');

const ROOT = path.join(__dirname, '../..');
const POST_ROUTE = path.join(ROOT, 'examples/nextjs/app/api/resumable/route.js');
const GET_ROUTE = path.join(ROOT, 'examples/nextjs/app/api/resumable/[id]/stream/route.js');

const HOOKS = `
const parentURL = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'lib/index.mjs')).href)};
export async function resolve(specifier, context, next) {
  if (specifier === 'llm-relay' || specifier.startsWith('llm-relay/')) return next(specifier, { ...context, parentURL });
  return next(specifier, context);
}`;
const REGISTER = `
import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

// The browser's side: POST, read until the third event id, leave; a second POST for the same id
// while the first is live; GET with Last-Event-ID; GET without it once the answer is complete;
// GET for an unknown id. Prints what each got.
const SCRIPT = `
const [postPath, getPath] = process.argv.slice(1);
const post = await import(new URL('file://' + postPath).href);
const get = await import(new URL('file://' + getPath).href);
const body = JSON.stringify({ id: 'chat-7', messages: [{ role: 'user', content: 'Hi' }] });
const request = () => new Request('http://localhost/api/resumable', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
const resume = (id, lastEventId) => get.GET(
  new Request('http://localhost/api/resumable/' + id + '/stream', { headers: lastEventId ? { 'last-event-id': lastEventId } : {} }),
  { params: Promise.resolve({ id }) },
);
const decoder = new TextDecoder();
const first = await post.POST(request());
const reader = first.body.getReader();
let had = '';
while ((had.match(/\\nid: \\d+\\n\\n/g) || []).length < 3) had += decoder.decode((await reader.read()).value, { stream: true });
await reader.cancel();
const cut = had.search(/\\nid: 3\\n\\n/) + '\\nid: 3\\n\\n'.length;
had = had.slice(0, cut);
const conflict = await post.POST(request());
const rest = await resume('chat-7', '3');
const restText = await rest.text();
const whole = await (await resume('chat-7')).text();
const missing = await resume('nobody');
process.stdout.write(JSON.stringify({
  status: first.status, streamId: first.headers.get('llm-relay-stream-id'), had,
  conflict: { status: conflict.status, body: await conflict.json() },
  rest: { status: rest.status, text: restText }, whole,
  missing: { status: missing.status, body: await missing.json() },
}));
`;

function run(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(REGISTER)}`,
        '--input-type=module',
        '-e',
        SCRIPT,
        POST_ROUTE,
        GET_ROUTE,
      ],
      { cwd: path.dirname(POST_ROUTE), env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
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

test('the resumable Next.js route pair: POST starts, the browser leaves, GET with Last-Event-ID sends exactly the rest', async () => {
  const answer = Array.from({ length: 20 }, (_, i) => `t${i} `).join('');
  const mock = await startMockProvider({ provider: 'openai', script: { tokens: answer, delayMs: 20 } });
  try {
    const res = await run({ OPENAI_BASE_URL: mock.baseURL('openai'), OPENAI_API_KEY: 'sk-test' });
    expect(res.status).toBe(200);
    expect(res.streamId).toBe('chat-7');
    expect(res.conflict).toEqual({
      status: 409,
      body: { error: expect.objectContaining({ code: 'INVALID_ARGUMENT' }) },
    });
    expect(res.rest.status).toBe(200);
    expect(res.had + res.rest.text).toBe(res.whole);
    const text = [...res.whole.matchAll(/^data: (\{.*\})$/gm)]
      .map((m) => JSON.parse(m[1]))
      .filter((d) => d.type === 'text')
      .map((d) => d.text)
      .join('');
    expect(text).toBe(answer);
    expect(res.missing).toEqual({ status: 404, body: { error: expect.objectContaining({ code: 'NOT_FOUND' }) } });
    // One answer was generated: the refused POST's stream was aborted at once.
    expect(mock.requests.filter((r) => r.completed)).toHaveLength(1);
  } finally {
    await mock.close();
  }
});

'use strict';

// The README's "Resume" section: its two 15-line apps (memory store, Redis store on a real
// redis-server) run exactly as written, in their own processes, against the mock provider
// (OPENAI_BASE_URL): a client drops, comes back with Last-Event-ID and gets exactly the rest;
// another answer is stopped through the stop route.

const fs = require('node:fs');
const net = require('node:net');
const { freePort } = require('../helpers/system');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startMockProvider } = require('../../lib/testing');
const { startRedis } = require('../helpers/redis');
const { readEvents, textOf } = require('../resume/relay-client');

const root = path.join(__dirname, '..', '..');
const dir = path.join(root, 'test', '.readme-resume'); // inside the package: 'llm-relay' resolves to it
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const ANSWER = Array.from({ length: 30 }, (_, i) => `word${i} `).join('');

/** The js blocks of the README's "## Resume" section, in order. */
function resumeBlocks() {
  const at = readme.indexOf('\n## Resume\n');
  const end = readme.indexOf('\n## ', at + 1);
  return [...readme.slice(at, end).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

async function startApp(name, code, env) {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, code);
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => {
    output += d;
  });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${output}`);
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up)
      return {
        url: `http://127.0.0.1:${port}`,
        stop: () =>
          new Promise((r) => {
            child.once('exit', r);
            child.kill();
          }),
      };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not listen: ${output}`);
}

let mock;
let redis;

beforeAll(async () => {
  fs.mkdirSync(dir, { recursive: true });
  mock = await startMockProvider({ provider: 'openai', script: { tokens: ANSWER, delayMs: 25 } });
  redis = await startRedis();
});

afterAll(async () => {
  await mock.close();
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the section has a 15-line app per store, then the useChat route pair', () => {
  const blocks = resumeBlocks();
  expect(blocks).toHaveLength(3);
  expect(blocks[0]).toContain('createMemoryStore(');
  expect(blocks[1]).toContain('createRedisStore(');
  for (const code of blocks.slice(0, 2)) expect(code.trim().split('\n').length).toBeLessThanOrEqual(15);
});

test.each([
  ['memory store', 0],
  ['Redis store', 1],
])(
  'the %s app: a client that drops comes back with Last-Event-ID and gets exactly the rest; stop ends an answer',
  async (name, index) => {
    const app = await startApp(`resume-${index}`, resumeBlocks()[index], {
      OPENAI_BASE_URL: mock.baseURL('openai'),
      OPENAI_API_KEY: 'sk-test',
      REDIS_URL: redis.url,
    });
    try {
      const body = JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] });
      const first = await readEvents(`${app.url}/api/chat/c1`, { method: 'POST', body, leaveAfterIds: 4 });
      expect(first.headers['llm-relay-stream-id']).toBe('c1');
      const rest = await readEvents(`${app.url}/api/chat/c1/stream`, { headers: { 'last-event-id': first.lastId } });
      expect({ status: rest.status, text: textOf(first.text + rest.text), rest: rest.text.slice(0, 300) }).toEqual({
        status: 200,
        text: ANSWER,
        rest: expect.any(String),
      });
      expect((await readEvents(`${app.url}/api/chat/c1/stream`)).text).toBe(first.text + rest.text);

      const second = await readEvents(`${app.url}/api/chat/c2`, { method: 'POST', body, leaveAfterIds: 2 });
      const stopped = await readEvents(`${app.url}/api/chat/c2/stop`, { method: 'POST', body: '{}' });
      expect(JSON.parse(stopped.text)).toEqual({ stopped: true });
      const tail = await readEvents(`${app.url}/api/chat/c2/stream`, { headers: { 'last-event-id': second.lastId } });
      expect(tail.text).toMatch(/event: error\ndata: \{"code":"ABORTED"/);
      const missing = await readEvents(`${app.url}/api/chat/nobody/stream`);
      expect(missing.status).toBe(404);
    } finally {
      await app.stop();
    }
  },
);

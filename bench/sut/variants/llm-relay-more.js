'use strict';
// Two more llm-relay rows, for what issue 11 added:
// - llm-relay-resume-redis: stream({...}).pipe(res, { format: 'sse', resume: { store, id } })
//   on createRedisStore({ url }) (the runner starts a redis-server on the tools' core and passes
//   its URL in BENCH_REDIS_URL; without redis-server the row is unavailable). Every token gets an
//   event id and is logged to Redis; each response has its own id.
// - llm-relay-multistep: createRelay(res, { format: 'sse' }), two forwarded streams of half the
//   tokens each (the second starts where the first ended: the mock's first= knob), then end().
// consume() (the in-process scenario) is the plain for await of the llm-relay row.
const path = require('node:path');
const { OPENAI_BODY, openaiBase } = require('../../lib/upstream');
const { expectedText } = require('../../lib/tokens');
const { Unavailable } = require('./llm-relay');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function loadRelay(need) {
  let relay;
  try {
    relay = require(ROOT);
  } catch (err) {
    throw new Unavailable(`require('llm-relay') failed: ${String(err.message).split('\n')[0]}`);
  }
  if (typeof relay[need] !== 'function') throw new Unavailable(`llm-relay exports no ${need}() yet`);
  return relay;
}

/** knobs with tokens split: [first half, second half starting at first=half]. */
function splitKnobs(knobs) {
  const parts = knobs.split(',').filter((kv) => !kv.startsWith('first='));
  const at = parts.findIndex((kv) => kv.startsWith('tokens='));
  const total = at >= 0 ? Number(parts[at].slice(7)) : 150;
  const half = Math.floor(total / 2);
  const rest = parts.filter((_, i) => i !== at);
  return [[`tokens=${half}`, ...rest].join(','), [`tokens=${total - half}`, `first=${half}`, ...rest].join(',')];
}

/** Runs `handle` against a fake response until it ends; the self-test of a row. */
async function selfTest(handle, knobs) {
  const http = require('node:http');
  const server = http.createServer((req, res) => handle(req, res, knobs));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/`);
    const body = await res.text();
    let text = '';
    for (const m of body.matchAll(/^data: (\{.*\})$/gm)) {
      const d = JSON.parse(m[1]);
      if (d.type === 'text') text += d.text;
    }
    return { text, body };
  } finally {
    server.close();
  }
}

function base(name, label) {
  return { name, label, packages: [], upstream: 'openai', clientMode: 'sse', http2: false, relay: true };
}

const resumeRedis = {
  ...base('llm-relay-resume-redis', 'llm-relay pipe(res, { resume }), Redis store'),
  async create(ctx) {
    const relay = loadRelay('createRedisStore');
    const url = process.env.BENCH_REDIS_URL;
    if (!url) throw new Unavailable(process.env.BENCH_REDIS_MISSING || 'no redis-server (BENCH_REDIS_URL unset)');
    // A short TTL keeps Redis's memory bounded over a long run (finished streams expire).
    const store = relay.createRedisStore({ url, ttlSeconds: 60, keyPrefix: `bench:${process.pid}:` });
    let n = 0;
    const options = (knobs, signal) => ({
      provider: 'openai',
      baseURL: openaiBase(ctx.mockOrigin, knobs),
      apiKey: 'x',
      body: OPENAI_BODY,
      signal,
    });
    const impl = {
      warnings: [],
      handle(req, res, knobs) {
        // abandonAfterMs: a stream whose client left (the runner cuts every stream at the end of
        // a window) and that nobody resumes stops after a second, as an app would configure it.
        relay
          .stream(options(knobs))
          .pipe(res, { format: 'sse', resume: { store, id: `s${n++}`, abandonAfterMs: 1000 } })
          .catch(() => {});
      },
      async consume(knobs, onText, signal) {
        try {
          for await (const d of relay.stream(options(knobs, signal))) if (d.type === 'text') onText(d.text);
        } catch (err) {
          if (!signal.aborted) throw err;
        }
      },
    };
    const { text } = await selfTest(impl.handle, 'tokens=5,pace_us=1000');
    if (text !== expectedText(5))
      throw new Unavailable(
        `self-test: expected ${JSON.stringify(expectedText(5))} but received ${JSON.stringify(text)}`,
      );
    // The log is in Redis: a reader of the last stream gets the same text.
    let logged = '';
    for await (const d of store.resume(`s${n - 1}`)) if (d.type === 'text') logged += d.text;
    if (logged !== text) throw new Unavailable(`self-test: the Redis log holds ${JSON.stringify(logged)}`);
    return impl;
  },
};

const multistep = {
  ...base('llm-relay-multistep', 'llm-relay createRelay(res), two forwarded steps'),
  async create(ctx) {
    const relay = loadRelay('createRelay');
    const options = (knobs, signal) => ({
      provider: 'openai',
      baseURL: openaiBase(ctx.mockOrigin, knobs),
      apiKey: 'x',
      body: OPENAI_BODY,
      signal,
    });
    const impl = {
      warnings: [],
      handle(req, res, knobs) {
        const [one, two] = splitKnobs(knobs);
        const r = relay.createRelay(res, { format: 'sse' });
        (async () => {
          await r.forward(relay.stream(options(one)));
          await r.forward(relay.stream(options(two)));
          r.end();
        })().catch(() => {
          // the relay already told the client and ended the response
        });
      },
      async consume(knobs, onText, signal) {
        try {
          for await (const d of relay.stream(options(knobs, signal))) if (d.type === 'text') onText(d.text);
        } catch (err) {
          if (!signal.aborted) throw err;
        }
      },
    };
    const { text, body } = await selfTest(impl.handle, 'tokens=6,pace_us=1000');
    if (text !== expectedText(6) || body.match(/\[DONE\]/g).length !== 1) {
      throw new Unavailable(
        `self-test: expected ${JSON.stringify(expectedText(6))} and one [DONE] but received ${JSON.stringify(body.slice(0, 300))}`,
      );
    }
    return impl;
  },
};

module.exports = { variants: [resumeRedis, multistep], splitKnobs };

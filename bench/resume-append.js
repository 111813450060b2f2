'use strict';

// Main-thread cost of logging a resumable stream: 1,000 streams each append
// one batch per main-loop turn (what the producer does: one append per stream
// per wakeup), for the memory store and the Redis store in each client mode.
// Reports per append:
//   call     CPU time inside store.append() (the synchronous part; getrusage
//            around each turn's 1,000 calls, when only the main thread works)
//   thread   main-thread CPU (Linux /proc/self/task/<pid>/stat) over the
//            whole run, minus the same loop with no store: append, the
//            one-write-per-turn flush, and parsing every Redis reply
// Starts its own redis-server (Debian's package) on a free port.
//   node bench/resume-append.js [--streams 1000] [--turns 300] [--modes memory,url,url-buffer,node-redis,ioredis]

const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const { createMemoryStore, createRedisStore } = require(path.join(root, 'lib', 'resume'));
const { startRedis } = require(path.join(root, 'test', 'helpers', 'redis'));

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const STREAMS = Number(opt('streams', 1000));
const TURNS = Number(opt('turns', 300));
const MODES = opt('modes', 'memory,url,url-buffer,node-redis,ioredis').split(',');

// One wakeup's worth of a 50 tok/s stream: a couple of text deltas.
const DATA = `${JSON.stringify({ type: 'text', text: ' the quick' })},${JSON.stringify({ type: 'text', text: ' brown fox' })},`;
const TICKS_PER_SECOND = 100; // Linux USER_HZ for /proc stat

/** Main-thread CPU in ms (the main thread's tid is the pid). */
function threadCpuMs() {
  const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Runs TURNS loop turns of one append per stream; append = null runs the bare loop. */
async function drive(append, ids, data) {
  let inCall = 0;
  const cpu0 = threadCpuMs();
  const wall0 = process.hrtime.bigint();
  for (let t = 0; t < TURNS; t++) {
    // CPU time, not wall time: on a busy machine a preempted loop is not a slow append.
    const t0 = process.cpuUsage();
    if (append !== null) for (let i = 0; i < ids.length; i++) append(ids[i], { first: t * 2 + 1, count: 2, data });
    const used = process.cpuUsage(t0);
    inCall += used.user + used.system;
    await turn();
  }
  return { inCall, cpu0, wall0 };
}

async function measure(name, store, settle, data) {
  const prefix = `bench-${name}-${Date.now()}-`;
  const ids = Array.from({ length: STREAMS }, (_, i) => `${prefix}${i}`);
  for (const id of ids) await store.claim(id, {});
  const run = await drive((id, b) => store.append(id, b), ids, data);
  await settle(); // every reply in
  const cpu = threadCpuMs() - run.cpu0;
  const wall = Number(process.hrtime.bigint() - run.wall0) / 1e6;
  for (const id of ids) await store.end(id, { ok: true });
  const stats = store.stats();
  return {
    name,
    appends: STREAMS * TURNS,
    callUs: run.inCall / (STREAMS * TURNS),
    cpu,
    wall,
    dropped: stats.droppedAppends,
  };
}

async function baseline() {
  const ids = Array.from({ length: STREAMS }, (_, i) => `b${i}`);
  const run = await drive(null, ids, DATA);
  return threadCpuMs() - run.cpu0;
}

async function main() {
  const redis = MODES.some((m) => m !== 'memory') ? await startRedis() : null;
  const rows = [];
  try {
    const idle = await baseline();
    for (const mode of MODES) {
      let store;
      let cleanup = async () => {};
      if (mode === 'memory') store = createMemoryStore({ maxBytes: 1 << 30 });
      else if (mode === 'url' || mode === 'url-buffer') store = createRedisStore({ url: redis.url });
      else if (mode === 'node-redis') {
        const client = require('redis').createClient({ url: redis.url });
        await client.connect();
        store = createRedisStore({ client });
        cleanup = () => client.destroy();
      } else if (mode === 'ioredis') {
        const Redis = require('ioredis');
        const client = new Redis(redis.url);
        await new Promise((resolve) => client.once('ready', resolve));
        store = createRedisStore({ client });
        cleanup = async () => client.disconnect();
      } else throw new Error(`unknown mode ${mode}`);
      // stop() of an unknown id is a round trip queued behind every append.
      const settle = mode === 'memory' ? async () => {} : () => store.stop('settle-marker');
      // url-buffer: the batch's data as a Buffer (what a worker could hand over) instead of a string.
      const data = mode === 'url-buffer' ? Buffer.from(DATA) : DATA;
      await measure(`${mode}-warmup`, store, settle, data);
      const row = await measure(mode, store, settle, data);
      row.threadUs = ((row.cpu - idle) * 1000) / row.appends;
      rows.push(row);
      await store.close();
      await cleanup();
      if (redis) await redis.kill().then(() => redis.start()); // the next mode starts on an empty Redis
    }
  } finally {
    if (redis) await redis.stop();
  }
  console.log(
    `resume store append cost: ${STREAMS} streams x ${TURNS} loop turns, one ${DATA.length}-char batch per stream per turn (bare loop: main thread`,
  );
  console.log(`CPU subtracted). node ${process.version}\n`);
  console.log('| store | appends | call µs/append | main-thread CPU µs/append | wall ms | dropped |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.appends} | ${r.callUs.toFixed(3)} | ${r.threadUs.toFixed(3)} | ${r.wall.toFixed(0)} | ${r.dropped} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

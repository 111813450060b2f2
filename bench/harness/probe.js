'use strict';
// Preloaded into every system under test (`node -r bench/harness/probe.js app.js`).
// Records event-loop delay and answers the runner over the IPC channel:
//   { cmd: 'reset' } -> starts a new measurement window
//   { cmd: 'read' }  -> { eld, rss, heapUsed, mainCpuNs, procCpuNs, cpuUsage, fds, resources }
// CPU per token is taken by the load client from /proc/<pid>/task/<pid>/schedstat
// at the exact window edges (an IPC round trip waits for a busy event loop); the
// probe's own reading of /proc/self/task/<tid>/stat is reported as a cross-check.

const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');

// 10 ms is Node's default. Node 20 records the whole interval between two timer
// callbacks, so the delay is the value minus the resolution. A 1 ms resolution
// would cost 1,000 wakeups a second, which on this VM is a few % of the core.
const RESOLUTION_MS = 10;
let histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();

const CLK_TCK = 100; // USER_HZ on Linux; /proc reports stat times in these ticks

function readTicks(path) {
  try {
    const s = fs.readFileSync(path, 'latin1');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) * (1e9 / CLK_TCK);
  } catch {
    return null;
  }
}

function schedstatNs(path) {
  try {
    return Number(fs.readFileSync(path, 'latin1').split(' ')[0]);
  } catch {
    return null;
  }
}

function delayMs(q) {
  if (histogram.count === 0) return 0;
  return Math.max(0, histogram.percentile(q) / 1e6 - RESOLUTION_MS);
}

function snapshot() {
  const mem = process.memoryUsage();
  const pid = process.pid; // the main thread's tid is the pid
  return {
    eld: {
      count: histogram.count,
      p50: delayMs(50),
      p99: delayMs(99),
      max: Math.max(0, histogram.max / 1e6 - RESOLUTION_MS),
      resolutionMs: RESOLUTION_MS,
    },
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    // What each V8 heap space holds (bench/profile.js: how much of RSS is V8's).
    spaces: Object.fromEntries(
      require('node:v8')
        .getHeapSpaceStatistics()
        .map((x) => [x.space_name, x.space_size]),
    ),
    mainCpuNs: schedstatNs(`/proc/self/task/${pid}/schedstat`) ?? readTicks(`/proc/self/task/${pid}/stat`),
    mainStatCpuNs: readTicks(`/proc/self/task/${pid}/stat`),
    procCpuNs: readTicks('/proc/self/stat'),
    cpuUsage: process.cpuUsage(),
    // Open descriptors and the event loop's live resources (bench/soak.js: do
    // they come back to where they started?).
    fds: countFds(),
    resources: countBy(process.getActiveResourcesInfo()),
  };
}

function countFds() {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

function countBy(names) {
  const counts = {};
  for (const name of names) counts[name] = (counts[name] || 0) + 1;
  return counts;
}

if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object' || typeof msg.cmd !== 'string') return;
    if (msg.cmd === 'reset') {
      histogram.disable();
      histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      histogram.enable();
      process.send({ type: 'probe', id: msg.id, data: snapshot() });
    } else if (msg.cmd === 'read') {
      process.send({ type: 'probe', id: msg.id, data: snapshot() });
    } else if (msg.cmd === 'snapshot') {
      // bench/profile.js --heap: where the JavaScript bytes of a loaded SUT go.
      const file = require('node:v8').writeHeapSnapshot();
      process.send({ type: 'probe', id: msg.id, data: { ...snapshot(), file: require('node:path').resolve(file) } });
    } else if (msg.cmd === 'gc' && typeof global.gc === 'function') {
      global.gc();
      process.send({ type: 'probe', id: msg.id, data: snapshot() });
    }
  });
  // The IPC channel must not keep a finished app alive.
  if (process.channel && typeof process.channel.unref === 'function') process.channel.unref();
}

module.exports = { snapshot };

// node --cpu-prof writes its profile on a normal exit only, and heaptrack its
// data (bench/profile.js).
if (
  process.execArgv.some((a) => a.startsWith('--cpu-prof') || a.startsWith('--heap-prof')) ||
  process.env.BENCH_CLEAN_EXIT === '1'
) {
  process.once('SIGTERM', () => process.exit(0));
}

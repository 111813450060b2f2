'use strict';
// Building blocks shared by run.js and soak.js: the mock provider process, a
// system under test (with its IPC probe) and the native load client.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const procs = require('./procs');

const HERE = path.resolve(__dirname, '..');
const BUILD = path.join(HERE, 'build');
// BENCH_MOCK / BENCH_CLIENT point at other builds (e.g. with sanitizers) when debugging.
const MOCK = process.env.BENCH_MOCK || path.join(BUILD, 'mock-provider');
const CLIENT = process.env.BENCH_CLIENT || path.join(BUILD, 'load-client');
const SUT_CORE = 0;
const TOOL_CORE = 1;
// Share of core 1 used by mock + load client above which a run is flagged.
const SATURATED = 0.9;

async function startMock() {
  const child = procs.spawnPinned(TOOL_CORE, MOCK, ['--port', '0']);
  const stderr = procs.collect(child.stderr, 64 * 1024);
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('mock provider did not start')), 5000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`mock provider exited (${code})`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  const mock = { child, port, origin, pid: child.pid, exit: null };
  child.once('exit', (code, sig) => {
    mock.exit = `${code ?? sig}: ${stderr.text.trim().split('\n').slice(-3).join(' | ')}`;
  });
  return mock;
}

async function mockStats(mock) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (mock.exit !== null) throw new Error(`the mock provider died (${mock.exit})`);
    try {
      const r = await fetch(`${mock.origin}/stats`);
      return await r.json();
    } catch (err) {
      last = err;
      await procs.sleep(50);
    }
  }
  const cause = last && last.cause ? ` (${last.cause.code || last.cause.message})` : '';
  throw new Error(`GET /stats on the mock failed: ${last && last.message}${cause}`);
}

/**
 * Waits until the mock has no stream in flight (the SUT aborted what the client
 * cut). Resolves with the streams still active when it gave up (0 when idle).
 */
async function waitMockIdle(mock, ms = 3000) {
  return (await waitMockIdleTimed(mock, ms)).active;
}

/** The same, also telling how long the mock took to go idle. */
async function waitMockIdleTimed(mock, ms = 3000) {
  const t0 = Date.now();
  const end = t0 + ms;
  let s = await mockStats(mock);
  while (s.streams_active > 0 && Date.now() < end) {
    await procs.sleep(20);
    s = await mockStats(mock);
  }
  return { active: s.streams_active, ms: Date.now() - t0 };
}

function mainThreadNs(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1').split(' ')[0]);
  } catch {
    return null;
  }
}

/**
 * Waits until a process's main thread uses < 10% of a core over two 100 ms
 * samples in a row: a SUT that fell behind under load keeps draining its backlog
 * after the client has gone, and the next phase must not pay for it.
 * Resolves true when quiet, false after maxMs.
 */
async function waitQuiet(pid, maxMs = 10000) {
  const end = Date.now() + maxMs;
  let quiet = 0;
  let prev = mainThreadNs(pid);
  while (Date.now() < end) {
    await procs.sleep(100);
    const now = mainThreadNs(pid);
    if (now === null || prev === null) return false;
    quiet = now - prev < 10e6 ? quiet + 1 : 0;
    prev = now;
    if (quiet >= 2) return true;
  }
  return false;
}

class Sut {
  /**
   * `nodeArgs`: extra flags for node (profile.js: --cpu-prof, --expose-gc);
   * `wrap`: a command that runs node (profile.js: heaptrack).
   */
  constructor(variant, mock, { nodeArgs = [], env, wrap = [] } = {}) {
    this.variant = variant;
    this.mock = mock;
    this.nodeArgs = nodeArgs;
    this.wrap = wrap;
    this.env = env;
    this.pending = new Map();
    this.seq = 0;
  }

  async start() {
    const args = [...this.nodeArgs, '-r', path.join(HERE, 'harness', 'probe.js'), path.join(HERE, 'sut', 'server.js')];
    args.push('--variant', this.variant.name, '--mock', this.mock.origin);
    this.child = procs.track(
      spawn('taskset', ['-c', String(SUT_CORE), ...this.wrap, process.execPath, ...args], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        cwd: HERE,
        env: this.env ? { ...process.env, ...this.env } : process.env,
      }),
    );
    this.stderr = procs.collect(this.child.stderr, 64 * 1024);
    this.stdout = procs.collect(this.child.stdout, 64 * 1024);
    const first = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ type: 'unavailable', reason: 'did not start within 30 s' }), 30000);
      this.child.on('message', (m) => {
        if (m && m.type === 'probe' && this.pending.has(m.id)) {
          this.pending.get(m.id)(m.data);
          this.pending.delete(m.id);
        } else if (m && (m.type === 'ready' || m.type === 'unavailable')) {
          clearTimeout(timer);
          resolve(m);
        }
      });
      this.child.once('exit', (code, sig) => {
        clearTimeout(timer);
        resolve({ type: 'unavailable', reason: `exited during start (${code ?? sig}): ${this.tail()}` });
      });
    });
    if (first.type !== 'ready') {
      await procs.stop(this.child, 500);
      return { unavailable: first.reason };
    }
    this.port = first.port;
    // The SUT's own pid: under a wrapper (heaptrack) the child is the wrapper.
    this.pid = first.pid || this.child.pid;
    return { warnings: first.warnings || [] };
  }

  tail() {
    return this.stderr.text.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  }

  alive() {
    return this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  probe(cmd, timeoutMs = 5000) {
    if (!this.alive()) return Promise.resolve(null);
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
      try {
        this.child.send({ cmd, id });
      } catch {
        clearTimeout(timer);
        resolve(null);
      }
    });
  }

  async stop() {
    await procs.stop(this.child, 2000);
  }
}

// ---------------------------------------------------------------------------
// Load client

/**
 * Runs the native load client. `hooks.onWindowStart/onWindowEnd` run when it
 * prints the window edges (probe reset/read, machine CPU). Resolves with its JSON.
 */
async function runClient(args, hooks = {}, limitMs = 120000) {
  const child = procs.spawnPinned(TOOL_CORE, CLIENT, args);
  const out = procs.collect(child.stdout);
  let errBuf = '';
  const hookPromises = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    errBuf += d;
    let nl;
    while ((nl = errBuf.indexOf('\n')) !== -1) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      if (line === 'WINDOW_START' && hooks.onWindowStart) hookPromises.push(hooks.onWindowStart());
      else if (line === 'WINDOW_END' && hooks.onWindowEnd) hookPromises.push(hooks.onWindowEnd());
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await procs.exited(child);
  clearTimeout(timer);
  const hookResults = await Promise.all(hookPromises);
  try {
    return { ...JSON.parse(out.text), hookResults };
  } catch {
    throw new Error(`load client failed (${code}): ${errBuf.slice(0, 300)} ${out.text.slice(0, 300)}`);
  }
}

module.exports = {
  HERE,
  MOCK,
  CLIENT,
  SUT_CORE,
  TOOL_CORE,
  SATURATED,
  startMock,
  mockStats,
  waitMockIdle,
  waitMockIdleTimed,
  waitQuiet,
  Sut,
  runClient,
};

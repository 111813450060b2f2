#!/usr/bin/env node
'use strict';
// The benchmark suite: `npm run bench` (full) or `npm run bench:quick` (~2 min).
//
// Layout of a run on the 2-core machine: every system under test (SUT) is pinned
// to core 0; the native mock provider, the native load client and this runner to
// core 1. Variants run interleaved in rounds (the order rotates each round) and
// every figure is the median over the rounds. A round whose mock + load client
// used ≥ 90% of core 1 is flagged and left out of the medians.
//
// Per round: the kernel floor (the load client straight at the mock, N paced
// streams: what the mock and the client spend per token is the kernel's share of
// relaying one). Per variant and round: start the SUT; time to first token at
// concurrency 1 (phase B); idle RSS; N paced streams (phase A); one burst stream
// (phase C); stop. Then: in-process `for await` bursts, the parse micro-benchmark
// and, in the full profile, the capacity ladder and the upstream HTTP/2 scenario.
// Output: results/latest.{md,json,png}; `node update-readme.js` copies the tables
// into the README.
//
// Options: --quick, --rounds N, --variants a,b,c, --conns N, --window-ms N,
//          --skip-parse, --skip-inproc, --skip-capacity, --skip-h2, --out DIR,
//          --nice N (e.g. -10 on a machine shared with other work; children inherit it)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const procs = require('./lib/procs');
const { getVariant } = require('./sut/variants');
const { startRedis } = require('./lib/redis');
const report = require('./lib/report');
const { startMock, mockStats, waitMockIdle, waitMockIdleTimed, waitQuiet, Sut, runClient } = require('./lib/parts');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '..');
const { MOCK, CLIENT, SUT_CORE, TOOL_CORE, SATURATED } = require('./lib/parts');

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = { quick: false, flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--rounds') o.rounds = Number(val());
    else if (a === '--variants') o.variants = val().split(',');
    else if (a === '--conns') o.conns = Number(val());
    else if (a === '--window-ms') o.windowMs = Number(val());
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--nice') o.nice = Number(val());
    else if (a.startsWith('--skip-')) o.flags.add(a.slice(7));
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const PROFILES = {
  quick: {
    name: 'quick',
    rounds: 3,
    conns: 1000,
    paceUs: 20000,
    tokens: 100,
    rampMs: 500,
    warmMs: 500,
    windowMs: 1500,
    ttftRequests: 40,
    ttftWarm: 10,
    burstWarmMs: 200,
    burstWindowMs: 600,
    inprocWarmMs: 200,
    inprocWindowMs: 500,
    capacity: null,
    h2: false,
    variants: [
      'llm-relay',
      'llm-relay-anthropic',
      'llm-relay-resume-redis',
      'llm-relay-multistep',
      'openai-sdk',
      'anthropic-sdk',
      'ai-sdk',
      'fetch-esp',
      'node-http',
    ],
  },
  full: {
    name: 'full',
    rounds: 3,
    conns: 1000,
    paceUs: 20000,
    tokens: 200,
    rampMs: 1000,
    warmMs: 2000,
    windowMs: 8000,
    ttftRequests: 400,
    ttftWarm: 50,
    burstWarmMs: 500,
    burstWindowMs: 3000,
    inprocWarmMs: 500,
    inprocWindowMs: 2000,
    // Every level runs (a chart of delivered % and gap p99 against streams);
    // the first level that fails ends only the "sustained" count.
    capacity: {
      levels: [250, 500, 750, 1000, 1250, 1500, 2000],
      variants: ['llm-relay', 'node-http'],
      rampMs: 1500,
      warmMs: 2000,
      windowMs: 4000,
    },
    h2: true,
    variants: [
      'llm-relay',
      'llm-relay-anthropic',
      'llm-relay-resume-redis',
      'llm-relay-multistep',
      'openai-sdk',
      'anthropic-sdk',
      'ai-sdk',
      'ai-sdk-text',
      'fetch-esp',
      'node-http',
    ],
  },
};

// ---------------------------------------------------------------------------
// Setup

function log(...a) {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
}

function ensureDeps() {
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'express'))) {
    log('installing bench dependencies (npm ci in bench/)');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE, stdio: 'inherit' });
  }
}

function ensureNative() {
  execFileSync('bash', [path.join(HERE, 'build.sh')], { stdio: 'inherit' });
  for (const f of [MOCK, CLIENT]) if (!fs.existsSync(f)) throw new Error(`${f} was not built`);
}

function pinSelf() {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(TOOL_CORE), String(process.pid)], { stdio: 'ignore' });
  } catch {
    log('warning: could not pin the runner to core 1 (taskset missing?)');
  }
}

function pkgVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function machineInfo() {
  const cpus = os.cpus();
  let gitCommit = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    gitCommit = null;
  }
  let relayVersion = null;
  let curlVersion = null;
  try {
    relayVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    // In a child: a native addon that fails to load (or to unload) must not take the runner down.
    const code = `const r = require(${JSON.stringify(ROOT)}); console.log(String((r.__bench && r.__bench.curlVersion) || ''))`;
    const full = execFileSync(process.execPath, ['-e', code], { timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    // The parts that matter here: curl itself, its TLS library and nghttp2.
    curlVersion =
      full
        .split(/\s+/)
        .filter((p) => /^(libcurl|GnuTLS|OpenSSL|nghttp2)\//.test(p))
        .join(' ') || null;
  } catch {
    // the llm-relay rows report why they are unavailable
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus.length ? cpus[0].model : 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadavgStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    llmRelay: relayVersion,
    gitCommit,
    curl: curlVersion,
    packages: Object.fromEntries(
      ['openai', '@anthropic-ai/sdk', 'ai', '@ai-sdk/openai', 'eventsource-parser', 'express'].map((p) => [
        p,
        pkgVersion(p),
      ]),
    ),
  };
}

function knobs(o) {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function upstreamPath(variant, k) {
  return variant.upstream === 'anthropic' ? `/k/${k}/v1/messages` : `/k/${k}/v1/chat/completions`;
}

const DIRECT_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Write a short story about a relay.' }],
  stream: true,
});

// ---------------------------------------------------------------------------
// Phases

/** Phase A: N paced streams through the SUT. */
async function phaseLoad(sut, mock, P, conns, timing) {
  await waitQuiet(sut.pid);
  const k = knobs({ tokens: P.tokens, pace_us: P.paceUs, epw: 1 });
  const args = [
    '--port',
    String(sut.port),
    '--path',
    `/chat?k=${k}`,
    '--mode',
    sut.variant.clientMode,
    '--conns',
    String(conns),
    '--tokens',
    String(P.tokens),
    '--ramp-ms',
    String(timing.rampMs),
    '--warmup-ms',
    String(timing.warmMs),
    '--window-ms',
    String(timing.windowMs),
    '--watch',
    `sut=${sut.pid}`,
    '--watch',
    `mock=${mock.pid}`,
  ];
  let cpuStart = null;
  let runnerStart = null;
  const r = await runClient(args, {
    onWindowStart: async () => {
      cpuStart = procs.machineCpu();
      runnerStart = process.cpuUsage();
      await sut.probe('reset');
      return null;
    },
    onWindowEnd: async () => {
      const m = procs.machineCpu();
      const ru = process.cpuUsage(runnerStart);
      const p = await sut.probe('read');
      return {
        probe: p,
        machine: cpuStart && { busyNs: m.busyNs - cpuStart.busyNs, stealNs: m.stealNs - cpuStart.stealNs },
        runnerNs: (ru.user + ru.system) * 1e3,
      };
    },
  });
  // Upstreams still running once the SUT has drained its backlog were never aborted.
  await waitQuiet(sut.pid);
  const leaked = await waitMockIdle(mock, 2000);
  return summarizeLoad(r, { conns, paceUs: P.paceUs, idleRssKb: sut.idleRssKb, leaked });
}

function summarizeLoad(r, { conns, paceUs, idleRssKb, leaked }) {
  const w = r.window_s;
  const sut = r.procs.sut || {};
  const mockP = r.procs.mock || {};
  // The client reports its own CPU apart from the processes it watches.
  const client = { threads_cpu_ns: r.client_cpu_ns || 0 };
  const end = (r.hookResults || []).find((x) => x && x.probe !== undefined) || {};
  const tokens = r.tokens_window;
  const windowNs = w * 1e9;
  const procNs = Math.max(sut.threads_cpu_ns || 0, sut.stat_cpu_ns || 0);
  const toolShare = ((mockP.threads_cpu_ns || 0) + (client.threads_cpu_ns || 0)) / windowNs;
  const ours = procNs + (mockP.threads_cpu_ns || 0) + (client.threads_cpu_ns || 0) + (end.runnerNs || 0);
  const foreign = end.machine ? Math.max(0, end.machine.busyNs - ours) / (windowNs * os.cpus().length) : null;
  const steal = end.machine ? end.machine.stealNs / (windowNs * os.cpus().length) : null;
  return {
    conns,
    offeredTps: (conns * 1e6) / paceUs,
    deliveredTps: tokens / w,
    tokensWindow: tokens,
    windowS: w,
    mainUsPerToken: tokens ? sut.main_cpu_ns / 1e3 / tokens : null,
    procUsPerToken: tokens ? procNs / 1e3 / tokens : null,
    mainCpuShare: sut.main_cpu_ns / windowNs,
    procCpuShare: procNs / windowNs,
    probeMainUsPerToken: null,
    rssPerStreamKiB: idleRssKb && sut.rss_max_kb ? (sut.rss_max_kb - idleRssKb) / conns : null,
    rssMaxKb: sut.rss_max_kb,
    idleRssKb,
    eldP99Ms: end.probe ? end.probe.eld.p99 : null,
    eldMaxMs: end.probe ? end.probe.eld.max : null,
    gapP50Ms: r.gap_us.p50 / 1e3,
    gapP99Ms: r.gap_us.p99 / 1e3,
    gapMaxMs: r.gap_us.max / 1e3,
    ttftP99Ms: r.ttft_us.p99 / 1e3,
    lost: r.lost_tokens,
    corrupt: r.corrupt_streams,
    protocolErrors: r.missing_done + r.missing_finish + r.error_events + r.http_errors + r.extra_tokens,
    connErrors: r.conn_errors,
    streamsCompleted: r.streams_completed,
    firstError: r.first_error || null,
    toolCoreShare: toolShare,
    saturated: toolShare >= SATURATED,
    foreignLoad: foreign,
    steal,
    leakedUpstreams: leaked,
  };
}

/**
 * The kernel floor: N paced streams from the mock straight to the load client
 * (OpenAI chunks, no relay). What the mock and the client spend per token is
 * about what one upstream read plus one downstream write cost the kernel: the
 * floor a relay's process CPU per token is compared with.
 */
async function phaseFloor(mock, P, conns, timing) {
  const k = knobs({ tokens: P.tokens, pace_us: P.paceUs, epw: 1 });
  const r = await runClient([
    '--port',
    String(mock.port),
    '--path',
    upstreamPath({ upstream: 'openai' }, k),
    '--mode',
    'openai',
    '--method',
    'POST',
    '--body',
    DIRECT_BODY,
    '--conns',
    String(conns),
    '--tokens',
    String(P.tokens),
    '--ramp-ms',
    String(timing.rampMs),
    '--warmup-ms',
    String(timing.warmMs),
    '--window-ms',
    String(timing.windowMs),
    '--watch',
    `mock=${mock.pid}`,
  ]);
  await waitMockIdle(mock, 3000);
  const tokens = r.tokens_window;
  const mockNs = r.procs.mock ? r.procs.mock.threads_cpu_ns : 0;
  const clientNs = r.client_cpu_ns || 0;
  return {
    tokensWindow: tokens,
    deliveredTps: tokens / r.window_s,
    offeredTps: (conns * 1e6) / P.paceUs,
    usPerToken: tokens ? (mockNs + clientNs) / 1e3 / tokens : null,
    mockUsPerToken: tokens ? mockNs / 1e3 / tokens : null,
    clientUsPerToken: tokens ? clientNs / 1e3 / tokens : null,
    gapP99Ms: r.gap_us.p99 / 1e3,
    lost: r.lost_tokens,
    toolCoreShare: (mockNs + clientNs) / (r.window_s * 1e9),
  };
}

/** Phase B: time to first token at concurrency 1 (tiny streams, back to back). */
async function phaseTtft(port, mode, pathName, P, extra = []) {
  const r = await runClient([
    '--port',
    String(port),
    '--path',
    pathName,
    '--mode',
    mode,
    '--conns',
    '1',
    '--tokens',
    '5',
    '--requests',
    String(P.ttftRequests + P.ttftWarm),
    '--warmup-requests',
    String(P.ttftWarm),
    ...extra,
  ]);
  return {
    p50Ms: r.ttft_us.p50 / 1e3,
    p99Ms: r.ttft_us.p99 / 1e3,
    count: r.ttft_us.count,
    lost: r.lost_tokens,
    streams: r.streams_completed,
    shortStreams: r.short_streams,
    errors: r.http_errors + r.conn_errors + r.corrupt_streams,
    firstError: r.first_error || null,
  };
}

/** Phase C: one burst stream through the relay, cut by the client after the window. */
async function phaseBurst(sut, mock, P) {
  const quiet = await waitQuiet(sut.pid);
  const k = knobs({ tokens: 1000000000, pace_us: 0, epw: 8 });
  const r = await runClient([
    '--port',
    String(sut.port),
    '--path',
    `/chat?k=${k}`,
    '--mode',
    sut.variant.clientMode,
    '--conns',
    '1',
    '--tokens',
    '1000000000',
    '--warmup-ms',
    String(P.burstWarmMs),
    '--window-ms',
    String(P.burstWindowMs),
    '--watch',
    `sut=${sut.pid}`,
    '--watch',
    `mock=${mock.pid}`,
  ]);
  const idle = await waitMockIdleTimed(mock);
  const w = r.window_s;
  const sutP = r.procs.sut || {};
  const toolShare = ((r.procs.mock || {}).threads_cpu_ns + (r.procs.client || {}).threads_cpu_ns) / (w * 1e9);
  return {
    tps: r.tokens_window / w,
    mainUsPerToken: r.tokens_window ? sutP.main_cpu_ns / 1e3 / r.tokens_window : null,
    procUsPerToken: r.tokens_window ? Math.max(sutP.threads_cpu_ns, sutP.stat_cpu_ns) / 1e3 / r.tokens_window : null,
    sutCoreShare: Math.max(sutP.threads_cpu_ns, sutP.stat_cpu_ns) / (w * 1e9),
    toolCoreShare: toolShare,
    toolBound: toolShare >= SATURATED,
    corrupt: r.corrupt_streams,
    firstError: r.first_error || null,
    abortPropagated: idle.active === 0,
    abortMs: idle.ms,
    startedQuiet: quiet,
  };
}

// ---------------------------------------------------------------------------
// Scenarios

function selectVariants(names) {
  return names.map((n) => getVariant(n));
}

async function mainScenario(P, mock, variants, results) {
  const cells = results.cells;
  const unavailable = results.unavailable;
  for (let round = 0; round < P.rounds; round++) {
    // Direct-to-mock baseline for the added time to first token, once per round.
    for (const up of ['openai', 'anthropic']) {
      const v = { upstream: up };
      const t = await phaseTtft(mock.port, up, upstreamPath(v, knobs({ tokens: 5, pace_us: 0 })), P, [
        '--method',
        'POST',
        '--body',
        DIRECT_BODY,
      ]);
      (results.direct[up] ||= []).push(t);
    }
    const floor = await phaseFloor(mock, P, P.conns, P);
    results.floor.push(floor);
    log(
      `round ${round + 1}/${P.rounds} kernel floor (mock -> client): ${fmt(floor.usPerToken, 2)} µs/token, ${Math.round(floor.deliveredTps)}/${Math.round(floor.offeredTps)} tok/s`,
    );
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const v of order) {
      if (unavailable[v.name]) continue;
      const sut = new Sut(v, mock);
      const started = await sut.start();
      if (started.unavailable) {
        // Unavailable when it never ran; a later failure to start is that round's error.
        if (!cells.some((c) => c.variant === v.name)) {
          unavailable[v.name] = started.unavailable;
          log(`${v.name}: unavailable: ${started.unavailable}`);
        } else {
          cells.push({ variant: v.name, round, error: `failed to start: ${started.unavailable}` });
          log(`round ${round + 1}/${P.rounds} ${v.name}: failed to start: ${started.unavailable}`);
        }
        continue;
      }
      const cell = { variant: v.name, round, warnings: started.warnings };
      for (const w of started.warnings) log(`${v.name}: warning: ${w}`);
      try {
        cell.ttft = await phaseTtft(sut.port, v.clientMode, `/chat?k=${knobs({ tokens: 5, pace_us: 0 })}`, P);
        await procs.sleep(200);
        sut.idleRssKb = procs.rssKb(sut.pid);
        cell.load = await phaseLoad(sut, mock, P, P.conns, P);
        cell.burst = await phaseBurst(sut, mock, P);
      } catch (err) {
        cell.error = String(err.message);
      }
      if (!sut.alive()) cell.crashed = `SUT exited: ${sut.tail()}`;
      await sut.stop();
      if (mock.exit !== null) {
        cell.error = `the mock provider died (${mock.exit}); restarted`;
        log(cell.error);
        await mock.restart();
      } else {
        await waitMockIdle(mock, 2000);
      }
      cells.push(cell);
      const L = cell.load;
      log(
        `round ${round + 1}/${P.rounds} ${v.name}: ` +
          (L
            ? `main ${fmt(L.mainUsPerToken, 2)} µs/tok, proc ${fmt(L.procUsPerToken, 2)} µs/tok, ` +
              `${Math.round(L.deliveredTps)}/${Math.round(L.offeredTps)} tok/s, lost ${L.lost}, gap p99 ${fmt(L.gapP99Ms, 1)} ms` +
              `${L.saturated ? ' [mock/client saturated]' : ''}${L.firstError ? ` (${L.firstError})` : ''}`
            : cell.error || cell.crashed),
      );
    }
  }
}

async function capacityScenario(P, mock, variants, results) {
  const C = P.capacity;
  for (const v of variants) {
    if (results.unavailable[v.name]) continue;
    if (C.variants && !C.variants.includes(v.name)) continue;
    const ladder = [];
    for (const conns of C.levels) {
      const sut = new Sut(v, mock);
      const started = await sut.start();
      if (started.unavailable) break;
      await procs.sleep(200);
      sut.idleRssKb = procs.rssKb(sut.pid);
      let L;
      try {
        L = await phaseLoad(sut, mock, P, conns, C);
      } catch (err) {
        L = { error: String(err.message) };
      }
      await sut.stop();
      await waitMockIdle(mock, 3000);
      const pass =
        !L.error &&
        L.deliveredTps >= 0.99 * L.offeredTps &&
        L.lost === 0 &&
        L.corrupt === 0 &&
        L.gapP99Ms <= P.paceUs / 1000 + 5;
      ladder.push({ conns, pass, saturated: Boolean(L.saturated), load: L });
      log(
        `capacity ${v.name} @${conns}: ${pass ? 'sustained' : 'not sustained'}, ` +
          `${fmt((100 * L.deliveredTps) / L.offeredTps, 1)}% delivered, gap p99 ${fmt(L.gapP99Ms, 1)} ms` +
          `${L.saturated ? ' (mock/client saturated)' : ''}`,
      );
    }
    results.capacity[v.name] = ladder;
  }
}

async function h2Scenario(P, mock, results) {
  const variants = selectVariants(['llm-relay-h2', 'node-http2']);
  for (let round = 0; round < P.rounds; round++) {
    const order = round % 2 ? [...variants].reverse() : variants;
    for (const v of order) {
      if (results.h2Unavailable[v.name]) continue;
      const sut = new Sut(v, mock);
      const started = await sut.start();
      if (started.unavailable) {
        results.h2Unavailable[v.name] = started.unavailable;
        log(`${v.name}: unavailable: ${started.unavailable}`);
        continue;
      }
      await procs.sleep(200);
      sut.idleRssKb = procs.rssKb(sut.pid);
      const before = await mockStats(mock);
      let L;
      try {
        L = await phaseLoad(sut, mock, P, P.conns, P);
      } catch (err) {
        L = { error: String(err.message) };
      }
      const after = await mockStats(mock);
      L.h2Connections = after.h2_conns_total - before.h2_conns_total;
      await sut.stop();
      await waitMockIdle(mock, 2000);
      results.h2Cells.push({ variant: v.name, round, load: L });
      log(`h2 round ${round + 1} ${v.name}: main ${fmt(L.mainUsPerToken, 2)} µs/tok, h2 conns ${L.h2Connections}`);
    }
  }
}

async function inprocScenario(P, mock, variants, results) {
  const list = variants.filter((v) => v.name !== 'ai-sdk-text');
  for (let round = 0; round < P.rounds; round++) {
    const order = list.map((_, i) => list[(i + round) % list.length]);
    for (const v of order) {
      const child = procs.spawnPinned(SUT_CORE, process.execPath, [
        path.join(HERE, 'inproc.js'),
        '--variant',
        v.name,
        '--mock',
        mock.origin,
        '--mock-pid',
        String(mock.pid),
        '--warm-ms',
        String(P.inprocWarmMs),
        '--window-ms',
        String(P.inprocWindowMs),
      ]);
      const out = procs.collect(child.stdout);
      const err = procs.collect(child.stderr);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
      const code = await procs.exited(child);
      clearTimeout(timer);
      let r;
      try {
        r = JSON.parse(out.text.trim().split('\n').pop());
      } catch {
        const tail = err.text.trim().split('\n').slice(-2).join(' | ').slice(0, 200);
        r = { variant: v.name, error: `crashed (${code}): ${tail}` };
      }
      await waitMockIdle(mock, 3000);
      (results.inproc[v.name] ||= []).push(r);
    }
  }
}

async function parseScenario(P, results) {
  const file = path.join(results.rawDir, 'parse.json');
  const args = [path.join(HERE, 'parse-bench.js'), '--json', file];
  if (P.name === 'quick') args.push('--quick');
  const child = procs.spawnPinned(SUT_CORE, process.execPath, args);
  const err = procs.collect(child.stderr);
  const code = await procs.exited(child);
  if (code !== 0) {
    results.parse = { error: `parse-bench failed (${code}): ${err.text.slice(-300)}` };
    return;
  }
  results.parse = JSON.parse(fs.readFileSync(file, 'utf8'));
}

function fmt(x, d) {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d);
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const P = { ...(opts.quick ? PROFILES.quick : PROFILES.full) };
  if (opts.rounds) P.rounds = Math.max(1, opts.rounds);
  if (opts.conns) P.conns = opts.conns;
  if (opts.windowMs) P.windowMs = opts.windowMs;
  if (opts.variants) P.variants = opts.variants;
  const outDir = opts.out || path.join(HERE, 'results');
  const rawDir = path.join(outDir, 'raw');
  fs.mkdirSync(rawDir, { recursive: true });

  procs.installExitHooks();
  if (opts.nice !== undefined) {
    try {
      os.setPriority(0, opts.nice);
    } catch (err) {
      log(`warning: could not set nice ${opts.nice}: ${err.message}`);
    }
  }
  pinSelf();
  ensureDeps();
  ensureNative();
  const t0 = Date.now();
  const machine = machineInfo();
  machine.nice = os.getPriority(0);
  log(`profile ${P.name}: ${P.rounds} rounds, ${P.conns} streams × ${1e6 / P.paceUs} tok/s, window ${P.windowMs} ms`);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadavgStart.join(' ')}`);

  // One mock for the whole run; if it dies it is restarted (and the cell says so).
  const mock = await startMock();
  mock.restart = async () => {
    const next = await startMock();
    Object.assign(mock, next, { restart: mock.restart });
  };
  const variants = selectVariants(P.variants);
  // The Redis row's redis-server, on the tools' core like the mock; its URL reaches the SUT in
  // its environment. Without the binary the row reports itself unavailable.
  let redis = null;
  if (variants.some((v) => v.name === 'llm-relay-resume-redis')) {
    redis = await startRedis(TOOL_CORE);
    if (redis.missing) {
      log(`llm-relay-resume-redis: skipped: ${redis.missing}`);
      process.env.BENCH_REDIS_MISSING = redis.missing;
    } else {
      process.env.BENCH_REDIS_URL = redis.url;
    }
  }
  const results = {
    profile: P,
    machine,
    rawDir,
    cells: [],
    direct: {},
    floor: [],
    unavailable: {},
    capacity: {},
    h2Cells: [],
    h2Unavailable: {},
    inproc: {},
    parse: null,
  };
  try {
    await mainScenario(P, mock, variants, results);
    if (!opts.flags.has('inproc')) {
      log('in-process for-await bursts');
      await inprocScenario(P, mock, variants, results);
    }
    if (P.h2 && !opts.flags.has('h2')) {
      log('upstream HTTP/2 scenario');
      await h2Scenario(P, mock, results);
    }
    if (P.capacity && !opts.flags.has('capacity')) {
      log('capacity ladder');
      await capacityScenario(P, mock, variants, results);
    }
    if (!opts.flags.has('parse')) {
      log('parse micro-benchmark');
      await parseScenario(P, results);
    }
  } finally {
    results.mockStats = await mockStats(mock).catch(() => null);
    await procs.stop(mock.child, 500);
    if (redis && redis.child) {
      await procs.stop(redis.child, 500);
      fs.rmSync(redis.dir, { recursive: true, force: true });
    }
  }
  machine.loadavgEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  machine.durationS = Math.round((Date.now() - t0) / 1000);

  const summary = report.summarize(results);
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ summary, raw: results }, null, 2));
  const md = report.markdown(summary);
  fs.writeFileSync(path.join(outDir, 'latest.md'), md);
  const chart = report.chart(summary, path.join(outDir, 'latest.png'), rawDir);
  log(chart.ok ? `chart: ${path.join(outDir, 'latest.png')}` : `chart skipped: ${chart.reason}`);
  if (summary.capacity && Object.keys(summary.capacity).length) {
    const ladder = report.ladderChart(summary, path.join(outDir, 'ladder.png'), rawDir);
    log(ladder.ok ? `ladder chart: ${path.join(outDir, 'ladder.png')}` : `ladder chart skipped: ${ladder.reason}`);
  }
  console.log(`\n${md}`);
  log(`done in ${machine.durationS} s; results in ${outDir}/latest.{md,json${chart.ok ? ',png' : ''}}`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  procs.killAll();
  process.exit(1);
});

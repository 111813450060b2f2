#!/usr/bin/env node
'use strict';
// Profiles one system under test at N paced streams, the way run.js loads it
// (SUT on core 0, mock and load client on core 1), and says where its CPU and
// memory go. For development: figures robust to a busy machine (CPU time per
// token, per thread; bytes per stream), not wall-clock throughput.
//
//   node bench/profile.js [--variant llm-relay] [--conns 1000] [--tokens 200]
//        [--window-ms 4000] [--warm-ms 2000] [--ramp-ms 1000]
//        [--perf FILE]      perf record (cpu-clock, call graphs) of the SUT during the window
//        [--strace FILE]    strace -c -f of the SUT during the window (slows it: counts only)
//        [--heaptrack FILE] run the SUT under heaptrack (native allocations; heaptrack_print FILE.zst)
//        [--heap FILE]      a V8 heap snapshot in mid-window, summarized by constructor
//        [--cpu-prof DIR]   node --cpu-prof of the SUT (main thread), written at exit
//        [--node-args "…"]  more node flags for the SUT
//        [--main-alone]     move the SUT's other threads to core 1 once it runs, so that a
//                           --cpu-prof of the main thread (wall clock) shows its own time only
//
// Prints one JSON object: CPU µs per delivered token for each thread of the SUT
// (by thread name), the process total, RSS per stream with its split (V8 heap,
// external, the rest), and the delivery figures of the load client.
const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const procs = require('./lib/procs');
const { getVariant } = require('./sut/variants');
const { startMock, mockStats, waitMockIdle, waitQuiet, Sut, runClient } = require('./lib/parts');

function parseArgs(argv) {
  const o = {
    variant: 'llm-relay',
    conns: 1000,
    tokens: 200,
    paceUs: 20000,
    windowMs: 4000,
    warmMs: 2000,
    rampMs: 1000,
    nodeArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === '--variant') o.variant = val();
    else if (a === '--conns') o.conns = Number(val());
    else if (a === '--tokens') o.tokens = Number(val());
    else if (a === '--pace-us') o.paceUs = Number(val());
    else if (a === '--window-ms') o.windowMs = Number(val());
    else if (a === '--warm-ms') o.warmMs = Number(val());
    else if (a === '--ramp-ms') o.rampMs = Number(val());
    else if (a === '--perf') o.perf = path.resolve(val());
    else if (a === '--strace') o.strace = path.resolve(val());
    else if (a === '--heaptrack') o.heaptrack = path.resolve(val());
    else if (a === '--heap') o.heap = path.resolve(val());
    else if (a === '--cpu-prof') o.cpuProf = path.resolve(val());
    else if (a === '--node-args') o.nodeArgs.push(...val().split(/\s+/).filter(Boolean));
    else if (a === '--main-alone') o.mainAlone = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** CPU ns and context switches of every thread of `pid`, by "name/tid". */
function threadsCpu(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim();
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      const switches =
        Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]) +
        Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]);
      out[`${tid === String(pid) ? 'main' : name}/${tid}`] = { ns, switches };
    } catch {
      // the thread ended
    }
  }
  return out;
}

function smapsRollup(pid) {
  const out = {};
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
  } catch {
    // gone
  }
  return out;
}

/** Totals by constructor name from a .heapsnapshot: count and self size. */
function summarizeHeap(file, top = 40) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const n = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const by = new Map();
  const nodes = snap.nodes;
  let total = 0;
  for (let i = 0; i < nodes.length; i += n) {
    const type = types[nodes[i + iType]];
    let name = snap.strings[nodes[i + iName]];
    if (type !== 'object' && type !== 'closure') name = `(${type})`;
    else if (type === 'closure') name = `closure ${name || '(anonymous)'}`;
    const size = nodes[i + iSize];
    total += size;
    const e = by.get(name) || { count: 0, bytes: 0 };
    e.count++;
    e.bytes += size;
    by.set(name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  return { totalBytes: total, top: rows.map(([name, e]) => ({ name, count: e.count, bytes: e.bytes })) };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  procs.installExitHooks();
  execFileSync('bash', [path.join(__dirname, 'build.sh')], { stdio: 'inherit' });
  const nodeArgs = [...o.nodeArgs];
  if (o.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`);
  const mock = await startMock();
  const variant = getVariant(o.variant);
  const sut = new Sut(variant, mock, {
    nodeArgs,
    wrap: o.heaptrack ? ['heaptrack', '-o', o.heaptrack] : [],
    env: o.heaptrack ? { BENCH_CLEAN_EXIT: '1' } : undefined,
  });
  const started = await sut.start();
  if (started.unavailable) throw new Error(started.unavailable);
  await procs.sleep(300);
  if (o.mainAlone) {
    for (const tid of fs.readdirSync(`/proc/${sut.pid}/task`)) {
      if (tid !== String(sut.pid)) execFileSync('taskset', ['-p', '-c', '1', tid], { stdio: 'ignore' });
    }
  }
  const idle = { rssKb: procs.rssKb(sut.pid), smaps: smapsRollup(sut.pid), probe: await sut.probe('read') };
  if (o.heap) {
    // The same summary at rest: the report is the difference, per stream.
    const s = await sut.probe('snapshot', 120000);
    idle.heap = summarizeHeap(s.file, Infinity);
    fs.rmSync(s.file, { force: true });
  }

  const k = `tokens=${o.tokens},pace_us=${o.paceUs},epw=1`;
  let cpu0;
  let cpu1;
  let stats0;
  let stats1;
  let mid = null;
  let tool = null;
  const midTimer = [];
  const r = await runClient(
    [
      '--port',
      String(sut.port),
      '--path',
      `/chat?k=${k}`,
      '--mode',
      variant.clientMode,
      '--conns',
      String(o.conns),
      '--tokens',
      String(o.tokens),
      '--ramp-ms',
      String(o.rampMs),
      '--warmup-ms',
      String(o.warmMs),
      '--window-ms',
      String(o.windowMs),
      '--watch',
      `sut=${sut.pid}`,
      '--watch',
      `mock=${mock.pid}`,
    ],
    {
      onWindowStart: async () => {
        cpu0 = threadsCpu(sut.pid);
        stats0 = await mockStats(mock);
        if (o.perf) {
          tool = spawn(
            'perf',
            ['record', '-q', '-e', 'cpu-clock', '-F', '2000', '-g', '-p', String(sut.pid), '-o', o.perf],
            { stdio: 'ignore' },
          );
        } else if (o.strace) {
          tool = spawn('strace', ['-c', '-f', '-o', o.strace, '-p', String(sut.pid)], { stdio: 'ignore' });
        }
        midTimer.push(
          new Promise((resolve) =>
            setTimeout(async () => {
              mid = { rssKb: procs.rssKb(sut.pid), smaps: smapsRollup(sut.pid), probe: await sut.probe('read') };
              if (o.heap) {
                const s = await sut.probe('snapshot', 120000);
                mid.heapFile = s && s.file;
              }
              resolve();
            }, o.windowMs / 2),
          ),
        );
        return null;
      },
      onWindowEnd: async () => {
        cpu1 = threadsCpu(sut.pid);
        stats1 = await mockStats(mock);
        if (tool) {
          tool.kill('SIGINT');
          await procs.exited(tool);
        }
        return null;
      },
    },
    600000,
  );
  await Promise.all(midTimer);
  await waitQuiet(sut.pid);
  await waitMockIdle(mock, 3000);
  if (o.heaptrack) {
    process.kill(sut.pid, 'SIGTERM'); // node itself; heaptrack then writes its data and exits
    await procs.exited(sut.child);
  }
  await sut.stop();
  await procs.stop(mock.child, 500);

  const tokens = r.tokens_window;
  const threads = {};
  const switches = {};
  let total = 0;
  for (const [name, now] of Object.entries(cpu1 || {})) {
    const before = (cpu0 || {})[name] || { ns: 0, switches: 0 };
    const d = now.ns - before.ns;
    total += d;
    if (d > 0) threads[name] = Number((d / 1e3 / tokens).toFixed(3));
    if (now.switches > before.switches) switches[name] = Number(((now.switches - before.switches) / tokens).toFixed(3));
  }
  const mockCpu = r.procs.mock ? r.procs.mock.threads_cpu_ns : null;
  const out = {
    variant: o.variant,
    conns: o.conns,
    tokens,
    windowS: r.window_s,
    deliveredPct: Number(((100 * tokens) / r.window_s / ((o.conns * 1e6) / o.paceUs)).toFixed(1)),
    lost: r.lost_tokens,
    upstreamStreams: stats1 && stats0 ? stats1.streams_started - stats0.streams_started : null,
    upstreamConnections: stats1 && stats0 ? stats1.conns_total - stats0.conns_total : null,
    streams: r.streams_completed,
    gapP99Ms: r.gap_us.p99 / 1e3,
    usPerToken: { ...threads, process: Number((total / 1e3 / tokens).toFixed(3)) },
    switchesPerToken: switches,
    floorUsPerToken: mockCpu !== null ? Number(((mockCpu + r.client_cpu_ns) / 1e3 / tokens).toFixed(3)) : null,
    memory: mid && {
      rssPerStreamKiB: Number(((mid.rssKb - idle.rssKb) / o.conns).toFixed(1)),
      heapTotalPerStreamKiB:
        mid.probe && idle.probe
          ? Number(((mid.probe.heapTotal - idle.probe.heapTotal) / 1024 / o.conns).toFixed(1))
          : null,
      heapUsedPerStreamKiB:
        mid.probe && idle.probe
          ? Number(((mid.probe.heapUsed - idle.probe.heapUsed) / 1024 / o.conns).toFixed(1))
          : null,
      externalPerStreamKiB:
        mid.probe && idle.probe
          ? Number(((mid.probe.external - idle.probe.external) / 1024 / o.conns).toFixed(1))
          : null,
      anonPerStreamKiB: Number((((mid.smaps.Anonymous || 0) - (idle.smaps.Anonymous || 0)) / o.conns).toFixed(1)),
      v8SpacesPerStreamKiB:
        mid.probe && idle.probe
          ? Object.fromEntries(
              Object.entries(mid.probe.spaces).map(([k, v]) => [
                k,
                Number(((v - (idle.probe.spaces[k] || 0)) / 1024 / o.conns).toFixed(1)),
              ]),
            )
          : null,
      idleRssKb: idle.rssKb,
      midRssKb: mid.rssKb,
    },
  };
  if (mid && mid.heapFile) {
    const loaded = summarizeHeap(mid.heapFile, Infinity);
    const before = new Map(idle.heap.top.map((e) => [e.name, e]));
    const per = (x) => Number((x / o.conns).toFixed(2));
    out.heap = {
      bytesPerStream: per(loaded.totalBytes - idle.heap.totalBytes),
      perStream: loaded.top
        .map((e) => {
          const b = before.get(e.name) || { count: 0, bytes: 0 };
          return { name: e.name, count: per(e.count - b.count), bytes: per(e.bytes - b.bytes) };
        })
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 40),
    };
    fs.renameSync(mid.heapFile, o.heap);
  }
  console.log(JSON.stringify(out, null, 2));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  procs.killAll();
  process.exit(1);
});

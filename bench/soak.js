#!/usr/bin/env node
'use strict';
// Soak: N paced streams through one system under test for a long window, with
// the SUT's RSS, open descriptors and event-loop resources sampled all along,
// and read again at rest before and after, to show whether they stay flat.
//   node bench/soak.js [--variant llm-relay] [--minutes 10] [--conns 1000] [--sample-s 10]
// Writes results/soak-<variant>.{md,json}. "Flat" here: the median RSS of the
// last fifth of the samples is within 10% of the median of the second fifth (the
// first fifth is warm-up), no token was lost, and once the load has gone the
// descriptors and resources are back where they started (allowing the idle
// upstream connections the relay keeps for reuse, at most 64).
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const procs = require('./lib/procs');
const { getVariant } = require('./sut/variants');
const { startMock, Sut, runClient, SUT_CORE } = require('./lib/parts');
const { median } = require('./lib/report');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const IDLE_POOL = 64; // idle upstream connections kept for reuse (CURLMOPT_MAXCONNECTS floor)

function threads(pid) {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))[1]);
  } catch {
    return null;
  }
}

function total(counts) {
  return counts ? Object.values(counts).reduce((a, b) => a + b, 0) : null;
}

async function atRest(sut) {
  const p = await sut.probe('read', 5000);
  return p ? { fds: p.fds, resources: p.resources, threads: threads(sut.pid), rssKb: procs.rssKb(sut.pid) } : null;
}

// After the load: poll until the descriptors stop falling (at most 15 s).
async function settle(sut) {
  let last = await atRest(sut);
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await atRest(sut);
    if (last && now && now.fds >= last.fds && total(now.resources) >= total(last.resources)) return now;
    last = now;
  }
  return last;
}

function signed(n) {
  return n === null ? '–' : `${n >= 0 ? '+' : ''}${n}`;
}

function slope(points) {
  // Least squares, KiB per minute.
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.rssKb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.rssKb - my);
    den += (p.t - mx) ** 2;
  }
  return den ? (num / den) * 60 : null;
}

async function main() {
  const variant = getVariant(arg('variant', 'llm-relay'));
  const minutes = Number(arg('minutes', 10));
  const conns = Number(arg('conns', 1000));
  const sampleS = Number(arg('sample-s', 10));
  const paceUs = 20000;
  const tokens = 200;
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  procs.installExitHooks();
  execFileSync('bash', [path.join(__dirname, 'build.sh')], { stdio: 'inherit' });
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    // unpinned runner: only slightly noisier
  }
  const mock = await startMock();
  const sut = new Sut(variant, mock);
  const started = await sut.start();
  if (started.unavailable) {
    console.log(`soak: ${variant.name} unavailable: ${started.unavailable}`);
    await procs.stop(mock.child, 500);
    return 1;
  }
  const before = await atRest(sut);
  console.log(
    `soak: ${variant.name}, ${conns} streams × ${1e6 / paceUs} tok/s for ${minutes} min (SUT on core ${SUT_CORE})`,
  );
  const samples = [];
  const t0 = Date.now();
  const timer = setInterval(async () => {
    const rssKb = procs.rssKb(sut.pid);
    const p = await sut.probe('read', 2000);
    if (rssKb !== null) {
      samples.push({
        t: (Date.now() - t0) / 1000,
        rssKb,
        heapUsed: p ? p.heapUsed : null,
        eldP99Ms: p ? p.eld.p99 : null,
        fds: p ? p.fds : null,
        resources: p ? total(p.resources) : null,
        threads: threads(sut.pid),
      });
      const last = samples[samples.length - 1];
      console.log(
        `  t=${last.t.toFixed(0)} s  RSS ${(rssKb / 1024).toFixed(1)} MiB  heap ${p ? (p.heapUsed / 2 ** 20).toFixed(1) : '?'} MiB` +
          `  fds ${last.fds}  resources ${last.resources}  threads ${last.threads}`,
      );
    }
  }, sampleS * 1000);
  const windowMs = Math.round(minutes * 60000);
  let r;
  let after = null;
  try {
    r = await runClient(
      [
        '--port',
        String(sut.port),
        '--path',
        `/chat?k=tokens=${tokens},pace_us=${paceUs},epw=1`,
        '--mode',
        variant.clientMode,
        '--conns',
        String(conns),
        '--tokens',
        String(tokens),
        '--ramp-ms',
        '1000',
        '--warmup-ms',
        '2000',
        '--window-ms',
        String(windowMs),
        '--watch',
        `sut=${sut.pid}`,
        '--watch',
        `mock=${mock.pid}`,
        '--sample-ms',
        '1000',
      ],
      {},
      windowMs + 60000,
    );
    clearInterval(timer);
    after = await settle(sut);
  } finally {
    clearInterval(timer);
    await sut.stop();
    await procs.stop(mock.child, 500);
  }
  const n = samples.length;
  const fifth = Math.max(1, Math.floor(n / 5));
  const early = median(samples.slice(fifth, 2 * fifth).map((s) => s.rssKb));
  const late = median(samples.slice(n - fifth).map((s) => s.rssKb));
  const growth = early && late ? late / early - 1 : null;
  const steady = samples.slice(fifth);
  const fdsBack = before && after ? after.fds - before.fds : null;
  const resourcesBack = before && after ? total(after.resources) - total(before.resources) : null;
  const settled =
    fdsBack !== null && fdsBack <= IDLE_POOL && resourcesBack <= IDLE_POOL && after.threads === before.threads;
  const range = (key) => {
    const xs = steady.map((x) => x[key]).filter((x) => x !== null);
    return xs.length ? `${Math.min(...xs)}–${Math.max(...xs)}` : '–';
  };
  const result = {
    variant: variant.name,
    minutes,
    conns,
    samples,
    rssEarlyKb: early,
    rssLateKb: late,
    growth,
    slopeKiBPerMin: slope(steady),
    before,
    after,
    fdsAfterMinusBefore: fdsBack,
    resourcesAfterMinusBefore: resourcesBack,
    settled,
    flat: growth !== null && growth < 0.1 && r.lost_tokens === 0 && settled,
    lostTokens: r.lost_tokens,
    corruptStreams: r.corrupt_streams,
    streamsCompleted: r.streams_completed,
    deliveredTps: r.tokens_window / r.window_s,
    gapP99Ms: r.gap_us.p99 / 1e3,
    firstError: r.first_error || null,
  };
  const md = [
    `# Soak: ${variant.label}`,
    '',
    `${conns} streams × ${1e6 / paceUs} tok/s, ${tokens} tokens per stream, ${minutes} min, ${new Date().toISOString().slice(0, 16)} UTC, node ${process.version}.`,
    '',
    '| RSS early (MiB) | RSS late (MiB) | growth | slope after warm-up | lost tokens | streams completed | delivered tok/s | gap p99 ms | flat |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${(early / 1024).toFixed(1)} | ${(late / 1024).toFixed(1)} | ${(growth * 100).toFixed(1)}% | ${result.slopeKiBPerMin === null ? '–' : `${result.slopeKiBPerMin.toFixed(0)} KiB/min`} | ${result.lostTokens} | ${result.streamsCompleted} | ${Math.round(result.deliveredTps)} | ${result.gapP99Ms.toFixed(1)} | ${result.flat ? 'yes' : 'no'} |`,
    '',
    '| | at rest before | under load (after warm-up) | at rest after |',
    '| --- | ---: | ---: | ---: |',
    `| open descriptors | ${before?.fds ?? '–'} | ${range('fds')} | ${after?.fds ?? '–'} |`,
    `| event-loop resources | ${total(before?.resources) ?? '–'} | ${range('resources')} | ${total(after?.resources) ?? '–'} |`,
    `| threads | ${before?.threads ?? '–'} | ${range('threads')} | ${after?.threads ?? '–'} |`,
    '',
    `Resources at rest (by type): before ${JSON.stringify(before?.resources ?? null)}, after ${JSON.stringify(after?.resources ?? null)}. ` +
      `Back to rest: ${settled ? 'yes' : 'no'} (descriptors ${signed(fdsBack)}, resources ${signed(resourcesBack)}; ` +
      `up to ${IDLE_POOL} idle upstream connections stay open for reuse).`,
    '',
    `RSS samples (s: MiB): ${samples.map((s) => `${s.t.toFixed(0)}: ${(s.rssKb / 1024).toFixed(1)}`).join(', ')}`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(outDir, `soak-${variant.name}.json`), JSON.stringify(result, null, 2));
  fs.writeFileSync(path.join(outDir, `soak-${variant.name}.md`), md);
  console.log(`\n${md}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    procs.killAll();
    process.exitCode = 1;
  },
);

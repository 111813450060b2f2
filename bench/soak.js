#!/usr/bin/env node
'use strict';
// Soak: N paced streams through one system under test for a long window, with
// the SUT's RSS sampled all along, to show whether memory stays flat.
//   node bench/soak.js [--variant llm-relay] [--minutes 10] [--conns 1000] [--sample-s 10]
// Writes results/soak-<variant>.{md,json}. "Flat" here: the median RSS of the
// last fifth of the samples is within 10% of the median of the second fifth (the
// first fifth is warm-up), and no token was lost.
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
  console.log(`soak: ${variant.name}, ${conns} streams × ${1e6 / paceUs} tok/s for ${minutes} min (SUT on core ${SUT_CORE})`);
  const samples = [];
  const t0 = Date.now();
  const timer = setInterval(async () => {
    const rssKb = procs.rssKb(sut.pid);
    const p = await sut.probe('read', 2000);
    if (rssKb !== null) {
      samples.push({ t: (Date.now() - t0) / 1000, rssKb, heapUsed: p ? p.heapUsed : null, eldP99Ms: p ? p.eld.p99 : null });
      const last = samples[samples.length - 1];
      console.log(`  t=${last.t.toFixed(0)} s  RSS ${(rssKb / 1024).toFixed(1)} MiB  heap ${p ? (p.heapUsed / 2 ** 20).toFixed(1) : '?'} MiB`);
    }
  }, sampleS * 1000);
  const windowMs = Math.round(minutes * 60000);
  let r;
  try {
    r = await runClient(
      [
        '--port', String(sut.port),
        '--path', `/chat?k=tokens=${tokens},pace_us=${paceUs},epw=1`,
        '--mode', variant.clientMode,
        '--conns', String(conns),
        '--tokens', String(tokens),
        '--ramp-ms', '1000',
        '--warmup-ms', '2000',
        '--window-ms', String(windowMs),
        '--watch', `sut=${sut.pid}`,
        '--watch', `mock=${mock.pid}`,
        '--sample-ms', '1000',
      ],
      {},
      windowMs + 60000,
    );
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
  const result = {
    variant: variant.name,
    minutes,
    conns,
    samples,
    rssEarlyKb: early,
    rssLateKb: late,
    growth,
    slopeKiBPerMin: slope(steady),
    flat: growth !== null && growth < 0.1 && r.lost_tokens === 0,
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
    'RSS samples (s: MiB): ' + samples.map((s) => `${s.t.toFixed(0)}: ${(s.rssKb / 1024).toFixed(1)}`).join(', '),
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

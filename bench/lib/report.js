'use strict';
// Turns a run's raw results into medians, ratios, a markdown report, the README
// block and a PNG chart (gnuplot). Nothing here measures; it only reads results.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ALL } = require('../sut/variants');

const LABEL = new Map(ALL.map((v) => [v.name, v.label]));
const RELAY_ROWS = new Set([
  'llm-relay',
  'llm-relay-anthropic',
  'llm-relay-h2',
  'llm-relay-resume-redis',
  'llm-relay-multistep',
]);
// The rows of issue 14's target 7 (added by the resumable and multi-step relays).
const MORE_RELAY_ROWS = ['llm-relay-resume-redis', 'llm-relay-multistep'];
const OFFICIAL_SDKS = ['openai-sdk', 'anthropic-sdk'];
const BASELINE = 'openai-sdk';
const FLOOR = 'node-http';

function finite(xs) {
  return xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
}

function median(xs) {
  const s = finite(xs).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sum(xs) {
  return finite(xs).reduce((a, b) => a + b, 0);
}

function ratio(a, b) {
  return a && b ? a / b : null;
}

function summarizeLoads(loads) {
  const valid = loads.filter((l) => !l.error && !l.saturated);
  const use = valid;
  const pick = (k) => median(use.map((l) => l[k]));
  return {
    rounds: loads.length,
    validRounds: valid.length,
    saturatedRounds: loads.filter((l) => l.saturated).length,
    mainUsPerToken: pick('mainUsPerToken'),
    procUsPerToken: pick('procUsPerToken'),
    mainCpuShare: pick('mainCpuShare'),
    procCpuShare: pick('procCpuShare'),
    rssPerStreamKiB: pick('rssPerStreamKiB'),
    eldP99Ms: pick('eldP99Ms'),
    offeredTps: pick('offeredTps'),
    deliveredTps: pick('deliveredTps'),
    gapP50Ms: pick('gapP50Ms'),
    gapP99Ms: pick('gapP99Ms'),
    foreignLoad: pick('foreignLoad'),
    steal: pick('steal'),
    toolCoreShare: median(loads.map((l) => l.toolCoreShare)),
    // Losses are summed over every round (saturated ones included): a lost token is never noise.
    lost: sum(loads.map((l) => l.lost)),
    corrupt: sum(loads.map((l) => l.corrupt)),
    protocolErrors: sum(loads.map((l) => l.protocolErrors)),
    connErrors: sum(loads.map((l) => l.connErrors)),
    leakedUpstreams: sum(loads.map((l) => l.leakedUpstreams)),
    firstError: (loads.find((l) => l.firstError) || {}).firstError || null,
  };
}

function summarize(results) {
  const P = results.profile;
  const rows = [];
  for (const name of P.variants) {
    const row = { name, label: LABEL.get(name) || name, relay: RELAY_ROWS.has(name) };
    if (results.unavailable[name]) {
      row.unavailable = results.unavailable[name];
      rows.push(row);
      continue;
    }
    const cells = results.cells.filter((c) => c.variant === name);
    const upstream = name === 'anthropic-sdk' || name === 'llm-relay-anthropic' ? 'anthropic' : 'openai';
    row.upstream = upstream;
    row.load = summarizeLoads(cells.filter((c) => c.load).map((c) => c.load));
    const direct = results.direct[upstream] || [];
    const added50 = [];
    const added99 = [];
    for (const c of cells) {
      const d = direct[c.round];
      if (c.ttft && d && c.ttft.count > 0) {
        added50.push(c.ttft.p50Ms - d.p50Ms);
        added99.push(c.ttft.p99Ms - d.p99Ms);
      }
    }
    row.ttft = {
      relayP50Ms: median(cells.map((c) => c.ttft && c.ttft.p50Ms)),
      relayP99Ms: median(cells.map((c) => c.ttft && c.ttft.p99Ms)),
      addedP50Ms: median(added50),
      addedP99Ms: median(added99),
      errors: sum(cells.map((c) => c.ttft && c.ttft.errors)),
      lost: sum(cells.map((c) => c.ttft && c.ttft.lost)),
      streams: sum(cells.map((c) => c.ttft && c.ttft.streams)),
      shortStreams: sum(cells.map((c) => c.ttft && c.ttft.shortStreams)),
      firstError: (cells.find((c) => c.ttft && c.ttft.firstError) || { ttft: {} }).ttft.firstError || null,
    };
    const bursts = cells.filter((c) => c.burst).map((c) => c.burst);
    row.burst = {
      tps: median(bursts.map((b) => b.tps)),
      toolBound: bursts.filter((b) => b.toolBound).length * 2 > bursts.length,
      mainUsPerToken: median(bursts.map((b) => b.mainUsPerToken)),
      procUsPerToken: median(bursts.map((b) => b.procUsPerToken)),
      sutCoreShare: median(bursts.map((b) => b.sutCoreShare)),
      corrupt: sum(bursts.map((b) => b.corrupt)),
      abortPropagated: bursts.every((b) => b.abortPropagated),
      abortLeaks: bursts.filter((b) => !b.abortPropagated).length,
      rounds: bursts.length,
    };
    const inproc = results.inproc[name] || [];
    const okIn = inproc.filter((r) => !r.error && !r.unavailable && r.correct !== false && r.tokens > 0);
    row.inproc = {
      tps: median(okIn.map((r) => r.tokensPerS)),
      mainUsPerToken: median(okIn.map((r) => r.mainUsPerToken)),
      procUsPerToken: median(okIn.map((r) => r.procUsPerToken)),
      mockCpuShare: median(okIn.map((r) => r.mockCpuShare)),
      error: okIn.length
        ? null
        : (inproc.find((r) => r.error || r.unavailable) || {}).error || (inproc[0] || {}).unavailable || null,
    };
    row.crashed = (cells.find((c) => c.crashed) || {}).crashed || null;
    row.warnings = [...new Set(cells.flatMap((c) => c.warnings || []))];
    row.errors = cells.filter((c) => c.error).map((c) => `round ${c.round + 1}: ${c.error}`);
    row.load.rounds = cells.length;
    const proc = row.load.procUsPerToken;
    // One core's worth of CPU divided by the CPU each stream costs at 50 tok/s.
    row.projectedStreams = proc ? 1e6 / (proc * (1e6 / P.paceUs)) : null;
    rows.push(row);
  }

  const byName = new Map(rows.map((r) => [r.name, r]));
  const base = byName.get(BASELINE);
  const floor = byName.get(FLOOR);
  for (const r of rows) {
    if (r.unavailable || !r.load) continue;
    r.vs = {
      main: base && base.load ? ratio(base.load.mainUsPerToken, r.load.mainUsPerToken) : null,
      proc: base && base.load ? ratio(base.load.procUsPerToken, r.load.procUsPerToken) : null,
      rss: base && base.load ? ratio(base.load.rssPerStreamKiB, r.load.rssPerStreamKiB) : null,
      streams: base ? ratio(r.projectedStreams, base.projectedStreams) : null,
      burstVsFloor: floor && floor.burst ? ratio(r.burst.tps, floor.burst.tps) : null,
    };
  }

  const jsPeers = rows.filter((r) => !r.relay && !r.unavailable && r.projectedStreams);
  const bestPeer = jsPeers.reduce((b, r) => (!b || r.projectedStreams > b.projectedStreams ? r : b), null);
  const sdks = rows.filter((r) => OFFICIAL_SDKS.includes(r.name) && r.projectedStreams);
  const bestSdk = sdks.reduce((b, r) => (!b || r.projectedStreams > b.projectedStreams ? r : b), null);

  // Capacity ladder (full profile).
  const capacity = {};
  for (const [name, ladder] of Object.entries(results.capacity || {})) {
    const passed = ladder.filter((s) => s.pass && !s.saturated);
    const failed = ladder.find((s) => !s.pass || s.saturated);
    const last = failed || ladder[ladder.length - 1];
    // Sustained: the levels passed before the first one that failed.
    const firstFail = ladder.findIndex((st) => !st.pass || st.saturated);
    const held = firstFail < 0 ? passed : ladder.slice(0, firstFail);
    capacity[name] = {
      sustained: held.length ? held[held.length - 1].conns : 0,
      limitedBy: last && last.saturated ? 'mock/client' : last && !last.pass ? 'system under test' : 'ladder end',
      ladder: ladder.map((s) => ({
        conns: s.conns,
        pass: s.pass,
        saturated: s.saturated,
        deliveredTps: s.load.deliveredTps,
        deliveredPct: s.load.offeredTps ? (100 * s.load.deliveredTps) / s.load.offeredTps : null,
        gapP99Ms: s.load.gapP99Ms,
        lost: s.load.lost,
        procUsPerToken: s.load.procUsPerToken,
        error: s.load.error || null,
      })),
    };
  }

  // Upstream HTTP/2.
  const h2 = [];
  for (const name of ['llm-relay-h2', 'node-http2']) {
    if (results.h2Unavailable && results.h2Unavailable[name]) {
      h2.push({ name, label: LABEL.get(name), unavailable: results.h2Unavailable[name] });
      continue;
    }
    const loads = (results.h2Cells || []).filter((c) => c.variant === name).map((c) => c.load);
    if (!loads.length) continue;
    const s = summarizeLoads(loads);
    s.h2Connections = median(loads.map((l) => l.h2Connections));
    h2.push({ name, label: LABEL.get(name), load: s });
  }

  // Parse micro-benchmark ratios.
  let parse = null;
  if (results.parse && results.parse.results) {
    parse = { rows: results.parse.results, chunkSize: results.parse.chunkSize, ratios: {} };
    for (const provider of ['openai', 'anthropic']) {
      const esp = results.parse.results.find((r) => r.provider === provider && r.impl.startsWith('eventsource-parser'));
      const relay = results.parse.results.find(
        (r) => r.provider === provider && r.impl === 'llm-relay framing+adapter',
      );
      parse.ratios[provider] = esp && relay && !relay.unavailable ? esp.nsPerEvent / relay.nsPerEvent : null;
    }
  } else if (results.parse && results.parse.error) {
    parse = { error: results.parse.error };
  }

  const floors = results.floor || [];
  const kernelFloor = floors.length
    ? {
        usPerToken: median(floors.map((f) => f.usPerToken)),
        mockUsPerToken: median(floors.map((f) => f.mockUsPerToken)),
        clientUsPerToken: median(floors.map((f) => f.clientUsPerToken)),
        deliveredTps: median(floors.map((f) => f.deliveredTps)),
        toolCoreShare: median(floors.map((f) => f.toolCoreShare)),
        rounds: floors.length,
      }
    : null;

  const summary = {
    profile: P,
    machine: results.machine,
    floor: kernelFloor,
    rows,
    bestPeer: bestPeer && bestPeer.name,
    bestSdk: bestSdk && bestSdk.name,
    capacity,
    h2,
    parse,
    mockStats: results.mockStats,
  };
  summary.targets = targets(summary, byName);
  return summary;
}

function verdict(ok) {
  if (ok === null || ok === undefined) return 'not measured';
  return ok ? 'met' : 'not met';
}

function targets(S, byName) {
  const r = byName.get('llm-relay');
  const floorRow = byName.get(FLOOR);
  const t = [];
  const have = r && !r.unavailable && r.load && r.load.mainUsPerToken !== null;
  const haveFloor = floorRow && !floorRow.unavailable && floorRow.load && floorRow.load.procUsPerToken !== null;
  const n = (x, d = 2) => (x === null || x === undefined ? '–' : Number(x).toFixed(d));
  const P = S.profile;
  const paceMs = P.paceUs / 1000;

  // 1. Keeping pace at N streams on one core.
  if (have) {
    const L = r.load;
    const pct = L.offeredTps ? (100 * L.deliveredTps) / L.offeredTps : null;
    const ok = pct !== null && pct >= 99 && L.lost === 0 && L.corrupt === 0 && L.gapP99Ms <= paceMs + 10;
    t.push({
      id: '1',
      text: `${P.conns.toLocaleString('en-US')} streams × ${n(1e3 / paceMs, 0)} tok/s on one core: ≥ 99% delivered, 0 lost, gap p99 ≤ ${n(paceMs + 10, 0)} ms`,
      value: `${n(pct, 1)}% delivered, ${L.lost} lost, gap p99 ${n(L.gapP99Ms, 1)} ms`,
      verdict: verdict(ok),
    });
  } else {
    t.push({ id: '1', text: 'streams × 50 tok/s on one core', value: 'unavailable', verdict: verdict(null) });
  }

  // 2. Process CPU per token against the kernel floor and node:http.
  const floor = S.floor ? S.floor.usPerToken : null;
  if (have && floor) {
    const x = r.load.procUsPerToken / floor;
    t.push({
      id: '2a',
      text: 'process CPU per relayed token ≤ 1.25× the kernel floor (mock → client direct, same run)',
      value: `${n(r.load.procUsPerToken)} µs vs ${n(floor)} µs (${n(x)}×)`,
      verdict: verdict(x <= 1.25),
    });
  } else {
    t.push({
      id: '2a',
      text: 'process CPU per relayed token ≤ 1.25× the kernel floor',
      value: 'unavailable',
      verdict: verdict(null),
    });
  }
  const below = have && haveFloor ? floorRow.load.procUsPerToken / r.load.procUsPerToken : null;
  t.push({
    id: '2b',
    text: 'process CPU per token ≥ 2.5× below node:http',
    value: below
      ? `${n(below, 1)}× (${n(r.load.procUsPerToken)} vs ${n(floorRow.load.procUsPerToken)} µs)`
      : 'unavailable',
    verdict: verdict(below ? below >= 2.5 : null),
  });

  // 3. Memory per in-flight stream.
  const rss = have ? r.load.rssPerStreamKiB : null;
  const rssFloor = haveFloor ? floorRow.load.rssPerStreamKiB : null;
  t.push({
    id: '3a',
    text: `RSS per in-flight stream ≤ 32 KiB at ${P.conns.toLocaleString('en-US')} streams`,
    value: rss !== null ? `${n(rss, 1)} KiB` : 'unavailable',
    verdict: verdict(rss !== null ? rss <= 32 : null),
  });
  t.push({
    id: '3b',
    text: 'RSS per in-flight stream below node:http',
    value: rss !== null && rssFloor !== null ? `${n(rss, 1)} vs ${n(rssFloor, 1)} KiB` : 'unavailable',
    verdict: verdict(rss !== null && rssFloor !== null ? rss < rssFloor : null),
  });

  // 4. Added time to first token at concurrency 1.
  const p50 = have ? r.ttft.addedP50Ms : null;
  const p50Floor = haveFloor ? floorRow.ttft.addedP50Ms : null;
  t.push({
    id: '4a',
    text: 'added time to first token at concurrency 1, p50 ≤ node:http',
    value: p50 !== null && p50Floor !== null ? `${n(p50, 3)} vs ${n(p50Floor, 3)} ms` : 'unavailable',
    verdict: verdict(p50 !== null && p50Floor !== null ? p50 <= p50Floor : null),
  });
  const p99 = have ? r.ttft.addedP99Ms : null;
  t.push({
    id: '4b',
    text: 'added time to first token at concurrency 1, p99 ≤ 1 ms',
    value: p99 !== null ? `${n(p99, 3)} ms` : 'unavailable',
    verdict: verdict(p99 !== null ? p99 <= 1 : null),
  });

  // 5. Main-thread CPU per token.
  t.push({
    id: '5',
    text: `main-thread CPU per token ≤ 1 µs at ${P.conns.toLocaleString('en-US')} streams (${P.tokens} tokens per stream)`,
    value: have ? `${n(r.load.mainUsPerToken)} µs` : 'unavailable',
    verdict: verdict(have ? r.load.mainUsPerToken <= 1 : null),
  });

  // 6. Parse micro-benchmark.
  const pr = S.parse && S.parse.ratios ? S.parse.ratios.openai : null;
  t.push({
    id: '6',
    text: 'parse micro-benchmark ≥ 10× eventsource-parser + JSON.parse (ns/event, OpenAI)',
    value: pr ? `${n(pr, 1)}×` : 'unavailable',
    verdict: verdict(pr ? pr >= 10 : null),
  });

  // 7. Rows of their own for the resumable and multi-step relays.
  const more = MORE_RELAY_ROWS.map((name) => byName.get(name)).filter(Boolean);
  const measured = more.filter((row) => !row.unavailable && row.load && row.load.validRounds);
  t.push({
    id: '7',
    text: 'the resumable relay (Redis) and the multi-step relay have rows of their own',
    value: more.length
      ? more
          .map(
            (row) =>
              `${row.name}: ${row.unavailable ? `unavailable (${row.unavailable})` : row.load && row.load.validRounds ? `${n(row.load.procUsPerToken)} µs/token` : 'no valid round'}`,
          )
          .join('; ')
      : 'not in this run',
    verdict: more.length ? (measured.length === MORE_RELAY_ROWS.length ? 'reported' : 'not measured') : 'not measured',
  });

  // 8. The resumable relay's cost (issue 11): main-thread CPU per token at most 1.5× the plain
  // relay's, delivering as much (within 1%).
  const res = byName.get('llm-relay-resume-redis');
  const haveRes = have && res && !res.unavailable && res.load && res.load.mainUsPerToken !== null;
  if (haveRes) {
    const x = res.load.mainUsPerToken / r.load.mainUsPerToken;
    const asMuch = res.load.deliveredTps >= 0.99 * r.load.deliveredTps;
    t.push({
      id: '8',
      text: 'resumable relay (Redis): main-thread CPU per token ≤ 1.5× the plain relay, delivering as much',
      value: `${n(res.load.mainUsPerToken)} vs ${n(r.load.mainUsPerToken)} µs (${n(x)}×); ${Math.round(res.load.deliveredTps).toLocaleString('en-US')} vs ${Math.round(r.load.deliveredTps).toLocaleString('en-US')} tok/s`,
      verdict: verdict(x <= 1.5 && asMuch),
    });
  } else {
    t.push({
      id: '8',
      text: 'resumable relay (Redis) ≤ 1.5× the plain relay',
      value: 'not in this run',
      verdict: verdict(null),
    });
  }
  return t;
}

// ---------------------------------------------------------------------------
// Markdown

function f(x, d = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return Number(x).toFixed(d);
}

function big(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}

function times(x) {
  return x === null || x === undefined ? '' : ` (${f(x, x >= 10 ? 0 : 1)}×)`;
}

function header(S) {
  const M = S.machine;
  const P = S.profile;
  const pk = Object.entries(M.packages)
    .map(([k, v]) => `${k} ${v || 'missing'}`)
    .join(', ');
  return [
    `Run ${M.date.slice(0, 16).replace('T', ' ')} UTC, profile \`${P.name}\` (${P.rounds} rounds, medians), ${M.durationS ?? '?'} s.`,
    `Machine: ${M.cpu}, ${M.cores} cores, ${M.memGiB} GiB, ${M.kernel}; load average ${M.loadavgStart.join(' ')} at start${M.loadavgEnd ? `, ${M.loadavgEnd.join(' ')} at end` : ''}.`,
    `Node ${M.node}; llm-relay ${M.llmRelay || '?'}${M.gitCommit ? ` (${M.gitCommit})` : ''}${M.curl ? `, ${M.curl}` : ''}; ${pk}.`,
    `SUT pinned to core 0; mock provider, load client and runner to core 1${M.nice ? `; all at nice ${M.nice}` : ''}.`,
  ];
}

function mainTable(S) {
  const P = S.profile;
  const lines = [
    `**Relay: ${big(P.conns)} streams × ${f(1e6 / P.paceUs, 0)} tokens/s** (offered ${big((P.conns * 1e6) / P.paceUs)} tok/s, ${P.tokens} tokens per stream, closed loop, window ${P.windowMs / 1000} s). Ratios are against the openai SDK row ("×" = times lower CPU / RSS).` +
      (S.floor
        ? ` Kernel floor (the same load from the mock straight to the load client, no relay): ${f(S.floor.usPerToken, 2)} µs of CPU per token (mock ${f(S.floor.mockUsPerToken, 2)}, client ${f(S.floor.clientUsPerToken, 2)}), what one upstream read and one downstream write cost.`
        : ''),
    '',
    '| system | main-thread CPU µs/token | whole-process CPU µs/token | RSS KiB/stream | event-loop delay p99 ms | delivered / offered tok/s | lost tokens | gap p99 ms | rounds |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of S.rows) {
    if (r.unavailable) {
      lines.push(`| ${r.label} | unavailable: ${r.unavailable.replace(/\|/g, '/')} | | | | | | | |`);
      continue;
    }
    const L = r.load;
    if (!L.validRounds) {
      lines.push(
        `| ${r.label} | flagged: mock/client saturated in all ${L.rounds} rounds (not quoted) | | | | | ${big(L.lost)} | | 0/${L.rounds} |`,
      );
      continue;
    }
    const errs = L.corrupt + L.protocolErrors;
    lines.push(
      `| ${r.label} | ${f(L.mainUsPerToken, 2)}${times(r.vs.main)} | ${f(L.procUsPerToken, 2)}${times(r.vs.proc)} | ${f(L.rssPerStreamKiB, 1)}${times(r.vs.rss)} | ${f(L.eldP99Ms, 1)} | ${big(L.deliveredTps)} / ${big(L.offeredTps)} | ${big(L.lost)}${errs ? ` (+${errs} errors)` : ''} | ${f(L.gapP99Ms, 1)} | ${L.validRounds}/${L.rounds}${L.saturatedRounds ? ` (${L.saturatedRounds} flagged)` : ''} |`,
    );
  }
  return lines;
}

function latencyTable(S) {
  const lines = [
    '**Latency, burst and headroom.** Added TTFT: through the relay minus direct to the mock, concurrency 1. Burst: one stream with no pacing, through the relay (load client) and in-process (`for await`, no relay); "per CPU-s" divides the tokens by the CPU time the process got, which holds up when other processes share the core. Streams/core: one core divided by whole-process CPU per stream at 50 tok/s.',
    '',
    '| system | added TTFT p50 ms | added TTFT p99 ms | burst via relay tok/s | per SUT CPU-s | vs node:http | for-await tok/s | per CPU-s | streams/core (projected) | vs openai SDK |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of S.rows) {
    if (r.unavailable) {
      lines.push(`| ${r.label} | unavailable | | | | | | | | |`);
      continue;
    }
    const b = r.burst;
    const perCpu = b.procUsPerToken ? 1e6 / b.procUsPerToken : null;
    const inproc = r.inproc.tps
      ? big(r.inproc.tps)
      : r.inproc.error
        ? `failed: ${String(r.inproc.error).replace(/\|/g, '/').slice(0, 80)}`
        : '–';
    lines.push(
      `| ${r.label} | ${f(r.ttft.addedP50Ms, 3)} | ${f(r.ttft.addedP99Ms, 3)} | ${b.toolBound ? '≥ ' : ''}${big(b.tps)} | ${big(perCpu)} | ${r.vs.burstVsFloor ? `${f(r.vs.burstVsFloor, 2)}×` : '–'} | ${inproc} | ${big(r.inproc.procUsPerToken ? 1e6 / r.inproc.procUsPerToken : null)} | ${big(r.projectedStreams)} | ${r.vs.streams ? `${f(r.vs.streams, 1)}×` : '–'} |`,
    );
  }
  return lines;
}

function parseTable(S) {
  if (!S.parse) return [];
  if (S.parse.error) return [`Parse micro-benchmark: ${S.parse.error}`];
  const lines = [
    `**Parse micro-benchmark** (recorded mock streams from memory, ${S.parse.chunkSize}-byte slices, one thread):`,
    '',
    '| stream | implementation | MB/s | ns/event |',
    '| --- | --- | ---: | ---: |',
  ];
  for (const r of S.parse.rows) {
    if (r.unavailable)
      lines.push(`| ${r.provider} | ${r.impl} | unavailable: ${r.unavailable.replace(/\|/g, '/')} | |`);
    else lines.push(`| ${r.provider} | ${r.impl} | ${f(r.mbPerS, 1)} | ${f(r.nsPerEvent, 0)} |`);
  }
  return lines;
}

function capacityTable(S) {
  const names = Object.keys(S.capacity || {});
  if (!names.length) return [];
  const levels = [...new Set(names.flatMap((n) => S.capacity[n].ladder.map((st) => st.conns)))].sort((a, b) => a - b);
  const cell = (st) => {
    if (!st) return '–';
    if (st.error) return `failed: ${String(st.error).replace(/\|/g, '/').slice(0, 40)}`;
    const mark = st.saturated ? ' (sat)' : st.pass ? '' : ' ✗';
    return `${f(st.deliveredPct, 1)}%, ${f(st.gapP99Ms, 1)} ms${st.lost ? `, ${big(st.lost)} lost` : ''}${mark}`;
  };
  const lines = [
    `**Capacity ladder** (streams × 50 tok/s; each cell: delivered % of offered tokens, gap p99; a level passes with ≥ 99% delivered, zero loss and gap p99 ≤ ${f(S.profile.paceUs / 1000 + 5, 0)} ms; ✗ = not passed, (sat) = the mock and load client saturated their core, so the level says nothing of the system under test):`,
    '',
    `| streams | ${names.map((n) => LABEL.get(n) || n).join(' | ')} |`,
    `| ---: | ${names.map(() => '---:').join(' | ')} |`,
  ];
  for (const conns of levels) {
    lines.push(
      `| ${big(conns)} | ${names.map((n) => cell(S.capacity[n].ladder.find((st) => st.conns === conns))).join(' | ')} |`,
    );
  }
  lines.push(
    `| sustained | ${names.map((n) => `${big(S.capacity[n].sustained)} (limited by ${S.capacity[n].limitedBy})`).join(' | ')} |`,
  );
  return lines;
}

function h2Table(S) {
  if (!S.h2 || !S.h2.length) return [];
  const lines = [
    `**Upstream HTTP/2** (h2c to the mock, ${big(S.profile.conns)} streams × 50 tok/s):`,
    '',
    '| system | main-thread CPU µs/token | whole-process CPU µs/token | RSS KiB/stream | gap p99 ms | lost | upstream h2 connections |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of S.h2) {
    if (r.unavailable) {
      lines.push(`| ${r.label} | unavailable: ${r.unavailable.replace(/\|/g, '/')} | | | | | |`);
      continue;
    }
    const L = r.load;
    if (L.validRounds === 0 && L.saturatedRounds > 0) {
      lines.push(
        `| ${r.label} | mock and load client saturated in every round (no figure of the system under test) | | | | ${big(L.lost)} | ${f(L.h2Connections, 0)} |`,
      );
      continue;
    }
    lines.push(
      `| ${r.label} | ${f(L.mainUsPerToken, 2)} | ${f(L.procUsPerToken, 2)} | ${f(L.rssPerStreamKiB, 1)} | ${f(L.gapP99Ms, 1)} | ${big(L.lost)} | ${f(L.h2Connections, 0)} |`,
    );
  }
  if (S.h2.some((r) => r.load && r.load.h2Connections > 1)) {
    lines.push(
      '',
      "- libcurl 7.x cannot multiplex h2c (prior knowledge) streams on one connection, so a source build on it gives each stream its own (h2 over TLS multiplexes, and the prebuilt binary's libcurl 8 multiplexes h2c too); a thousand upstream connections saturate the mock's core.",
    );
  }
  return lines;
}

function targetsTable(S) {
  const lines = [
    '**Targets** (measured in this run; never asserted):',
    '',
    '| # | target | measured | |',
    '| --- | --- | --- | --- |',
  ];
  for (const t of S.targets) lines.push(`| ${t.id} | ${t.text} | ${t.value} | ${t.verdict} |`);
  return lines;
}

function notes(S) {
  const out = [];
  const noisy = S.rows.filter((r) => r.load && r.load.foreignLoad !== null && r.load.foreignLoad > 0.25);
  if (noisy.length) {
    out.push(
      `Other processes used a median ${f(median(noisy.map((r) => r.load.foreignLoad)) * 100, 0)}% of the machine during some windows (${noisy.map((r) => r.name).join(', ')}): figures are noisier than on a quiet machine.`,
    );
  }
  for (const r of S.rows) {
    if (r.crashed) out.push(`${r.name}: ${r.crashed}`);
    for (const w of r.warnings || []) out.push(`${r.name}: ${w}`);
    for (const e of r.errors || []) out.push(`${r.name}: ${e}`);
    if (r.load && r.load.firstError) out.push(`${r.name}: first client-side error: ${r.load.firstError}`);
    if (r.ttft && r.ttft.lost) {
      out.push(
        `${r.name}: the concurrency-1 phase lost ${r.ttft.lost} tokens${r.ttft.streams ? ` (${r.ttft.shortStreams} of ${r.ttft.streams} streams ended early)` : ''}; its TTFT percentiles cover only streams that delivered a token. First: ${r.ttft.firstError}`,
      );
    }
    if (r.load && r.load.leakedUpstreams) {
      out.push(
        `${r.name}: ${r.load.leakedUpstreams} upstream streams were still running after the SUT went idle following the cut (summed over rounds).`,
      );
    }
    if (r.burst && r.burst.abortPropagated === false) {
      out.push(
        `${r.name}: in ${r.burst.abortLeaks} of ${r.burst.rounds} rounds the upstream burst stream was still running 3 s after the client disconnected${r.name.includes('resume') ? ' (as it should: a resumable relay keeps generating for a reader that reconnects, until it ends, is stopped or abandonAfterMs passes)' : ''}.`,
      );
    }
  }
  const text = S.rows.find((r) => r.name === 'ai-sdk-text');
  if (text)
    out.push(
      'AI SDK (text) uses pipeTextStreamToResponse: plain text, read by the load client in text mode (tokens checked by content, no [DONE] to check).',
    );
  out.push(
    'Anthropic rows stream Anthropic events (~120 bytes each) instead of OpenAI chunks (~330 bytes), so compare them with each other.',
  );
  return out.map((s) => `- ${s}`);
}

function markdown(S) {
  return [
    '# llm-relay benchmark',
    '',
    ...header(S).map((l) => `${l}  `),
    '',
    ...mainTable(S),
    '',
    ...latencyTable(S),
    '',
    ...parseTable(S),
    '',
    ...(capacityTable(S).length ? [...capacityTable(S), ''] : []),
    ...(h2Table(S).length ? [...h2Table(S), ''] : []),
    ...targetsTable(S),
    '',
    ...notes(S),
    '',
    'How it is measured: bench/README.md. Raw figures: results/latest.json.',
    '',
  ].join('\n');
}

/** The block update-readme.js puts between the README markers. */
function readme(S) {
  const ladder = capacityTable(S);
  return [
    ...header(S).map((l) => `${l}  `),
    '',
    ...mainTable(S),
    '',
    ...latencyTable(S),
    '',
    ...parseTable(S),
    '',
    ...(ladder.length
      ? [...ladder, '', '![Delivered tokens and gap p99 against streams](bench/results/ladder.png)', '']
      : []),
    ...targetsTable(S),
    '',
    'Full report and chart: [bench/results/latest.md](bench/results/latest.md), [bench/results/latest.png](bench/results/latest.png). Reproduce with `npm run bench` (or `npm run bench:quick`, about 2 minutes).',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Chart (gnuplot)

function gnuplotTerminal() {
  for (const term of ['pngcairo', 'png']) {
    try {
      execFileSync('gnuplot', ['-e', `set terminal ${term}`], { stdio: 'ignore' });
      return term;
    } catch {
      // try the next one
    }
  }
  return null;
}

function q(s) {
  return `"${String(s).replace(/"/g, "'")}"`;
}

function num(x) {
  return x === null || x === undefined || !Number.isFinite(x) || x <= 0 ? 'NaN' : String(x);
}

function chart(S, pngPath, rawDir) {
  let term;
  try {
    execFileSync('gnuplot', ['--version'], { stdio: 'ignore' });
    term = gnuplotTerminal();
  } catch {
    return { ok: false, reason: 'gnuplot not found (apt-get install -y gnuplot-nox)' };
  }
  if (!term) return { ok: false, reason: 'gnuplot has no PNG terminal' };
  const rows = S.rows.filter((r) => !r.unavailable && r.load);
  if (!rows.length) return { ok: false, reason: 'no row to plot' };
  const short = (r) => r.name;
  const data = (name, cols) => [
    `$${name} << EOD`,
    ...rows.map((r) => [q(short(r)), ...cols(r).map(num)].join(' ')),
    'EOD',
  ];
  const script = [
    `set terminal ${term} size 1500,1000 ${term === 'pngcairo' ? 'font "sans,10"' : ''}`,
    `set output ${q(pngPath)}`,
    'set datafile missing "NaN"',
    ...data('cpu', (r) => [r.load.mainUsPerToken, r.load.procUsPerToken]),
    ...data('streams', (r) => [r.projectedStreams]),
    ...data('ttft', (r) => [Math.max(r.ttft.addedP50Ms, 0.001), Math.max(r.ttft.addedP99Ms, 0.001)]),
    ...data('burst', (r) => [r.burst.tps, r.inproc.tps]),
    `set multiplot layout 2,2 title ${q(`llm-relay bench, ${S.machine.date.slice(0, 10)}, profile ${S.profile.name}, ${S.profile.conns} streams x 50 tok/s, node ${S.machine.node}`)}`,
    'set style data histograms',
    'set style histogram clustered gap 1',
    'set style fill solid 0.85 border -1',
    'set boxwidth 0.9',
    'set xtics rotate by -25 scale 0 nomirror',
    'set grid ytics',
    'set key top left',
    'set logscale y',
    `set title ${q('CPU per token (microseconds, log scale, lower is better)')}`,
    'plot $cpu using 2:xtic(1) title "main thread", "" using 3 title "whole process"',
    `set title ${q('Projected streams per core at 50 tok/s (log scale, higher is better)')}`,
    'plot $streams using 2:xtic(1) title "streams/core"',
    `set title ${q('Added time to first token at concurrency 1 (ms, log scale, lower is better)')}`,
    'plot $ttft using 2:xtic(1) title "p50", "" using 3 title "p99"',
    `set title ${q('One burst stream (tokens/s, log scale, higher is better)')}`,
    'plot $burst using 2:xtic(1) title "through the relay", "" using 3 title "for await in-process"',
    'unset multiplot',
  ].join('\n');
  const gp = path.join(rawDir, 'chart.gp');
  fs.writeFileSync(gp, script);
  try {
    execFileSync('gnuplot', [gp], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    return { ok: false, reason: `gnuplot failed: ${String(err.stderr || err.message).slice(0, 200)}` };
  }
  return { ok: true };
}

/** The capacity ladder as a chart: delivered % and gap p99 against streams. */
function ladderChart(S, pngPath, rawDir) {
  const names = Object.keys(S.capacity || {});
  if (!names.length) return { ok: false, reason: 'no capacity ladder in this run' };
  let term;
  try {
    execFileSync('gnuplot', ['--version'], { stdio: 'ignore' });
    term = gnuplotTerminal();
  } catch {
    return { ok: false, reason: 'gnuplot not found (apt-get install -y gnuplot-nox)' };
  }
  if (!term) return { ok: false, reason: 'gnuplot has no PNG terminal' };
  const blocks = [];
  const plots = { pct: [], gap: [] };
  names.forEach((name, i) => {
    const rows = S.capacity[name].ladder.filter((st) => !st.error);
    blocks.push(
      `$d${i} << EOD`,
      ...rows.map((st) => `${st.conns} ${num(st.deliveredPct)} ${num(st.gapP99Ms)} ${st.saturated ? 1 : 0}`),
      'EOD',
    );
    const title = q(LABEL.get(name) || name);
    plots.pct.push(`$d${i} using 1:2 with linespoints lw 2 pt 7 title ${title}`);
    plots.gap.push(`$d${i} using 1:3 with linespoints lw 2 pt 7 title ${title}`);
  });
  const paceMs = S.profile.paceUs / 1000;
  const script = [
    `set terminal ${term} size 1200,500 ${term === 'pngcairo' ? 'font "sans,10"' : ''}`,
    `set output ${q(pngPath)}`,
    'set datafile missing "NaN"',
    ...blocks,
    `set multiplot layout 1,2 title ${q(`Capacity ladder, ${S.machine.date.slice(0, 10)}: streams x 50 tok/s, system under test on one core (points past saturation of the mock/client core are flagged in the table)`)}`,
    'set grid',
    'set key bottom left',
    'set xlabel "streams"',
    'set ylabel "delivered % of offered tokens"',
    'set yrange [0:105]',
    `set title ${q('Delivered (higher is better; target >= 99%)')}`,
    `plot ${plots.pct.join(', ')}, 99 with lines dt 2 lc rgb "gray" title "99%"`,
    'set logscale y',
    'set yrange [*:*]',
    'set key top left',
    'set ylabel "gap p99 ms (log)"',
    `set title ${q(`Gap between tokens, p99 (lower is better; target <= ${paceMs + 10} ms)`)}`,
    `plot ${plots.gap.join(', ')}, ${paceMs + 10} with lines dt 2 lc rgb "gray" title "pace + 10 ms"`,
    'unset multiplot',
  ].join('\n');
  const gp = path.join(rawDir, 'ladder.gp');
  fs.writeFileSync(gp, script);
  try {
    execFileSync('gnuplot', [gp], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    return { ok: false, reason: `gnuplot failed: ${String(err.stderr || err.message).slice(0, 200)}` };
  }
  return { ok: true };
}

module.exports = { summarize, markdown, readme, chart, ladderChart, median };

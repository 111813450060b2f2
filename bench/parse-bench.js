'use strict';
// Parse micro-benchmark: recorded provider streams fed from memory in 4 KiB
// slices (as socket reads would), reporting MB/s and ns per SSE event.
//
// The streams are the mock provider's own bytes (`mock-provider --dump`): OpenAI
// chat.completion.chunk events of ~300 bytes and Anthropic Messages events.
// Every implementation's extracted text is checked against the expected tokens
// before it is timed, so a fast wrong parser cannot win.
//
// Implementations:
//   eventsource-parser + JSON.parse       the common JS way (TextDecoder included)
//   hand-written Buffer framing + JSON.parse   the JS floor (lib/openai-frames.js)
//   llm-relay framing+adapter              native, require('..').__bench.parse(provider, 'discard', …)
//   llm-relay framing+adapter+sse encoder  the same plus the downstream SSE encoding
//
// Usage: node bench/parse-bench.js [--quick] [--tokens N] [--json FILE]
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { createParser } = require('eventsource-parser');
const { OpenAIFrames, AnthropicFrames } = require('./lib/openai-frames');
const { expectedText } = require('./lib/tokens');

const MOCK = path.join(__dirname, 'build', 'mock-provider');
const CHUNK = 4096;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

// ---------------------------------------------------------------------------
// HOOK for the llm-relay half. The core exposes
//   require('llm-relay').__bench.parse(provider, format, buffer, chunkSize, iterations)
//     -> { ns, output: Buffer, summary: JSON string of the last pass, error: code or '' }
// running framing + adapter (+ encoder unless format is 'discard') on this thread.
// Returns null with a reason when it is missing, so the rows print "unavailable".
function loadRelayParse() {
  let relay;
  try {
    relay = require(path.resolve(__dirname, '..'));
  } catch (err) {
    return { fn: null, reason: `require('llm-relay') failed: ${String(err.message).split('\n')[0]}` };
  }
  const bench = relay.__bench;
  if (!bench || typeof bench.parse !== 'function') return { fn: null, reason: 'llm-relay has no __bench.parse()' };
  return { fn: bench.parse, reason: null };
}

function slices(buf) {
  const out = [];
  for (let off = 0; off < buf.length; off += CHUNK) out.push(buf.subarray(off, off + CHUNK));
  return out;
}

function espPass(provider, parts) {
  let text = '';
  let events = 0;
  const parser = createParser({
    onEvent(ev) {
      events++;
      if (ev.data === '[DONE]') return;
      const j = JSON.parse(ev.data);
      if (provider === 'openai') {
        const c = j.choices && j.choices[0];
        if (c !== undefined && c.delta && c.delta.content) text += c.delta.content;
      } else if (j.type === 'content_block_delta' && j.delta.type === 'text_delta') {
        text += j.delta.text;
      }
    },
  });
  const decoder = new TextDecoder();
  for (const p of parts) parser.feed(decoder.decode(p, { stream: true }));
  return { text, events };
}

function floorPass(provider, parts) {
  const f = provider === 'openai' ? new OpenAIFrames() : new AnthropicFrames();
  let text = '';
  for (const p of parts) f.push(p, (t) => (text += t));
  return { text, events: f.events };
}

function jsImpl(name, passFn) {
  return {
    name,
    available: true,
    check(provider, buf, parts, expected) {
      const r = passFn(provider, parts);
      if (r.text !== expected) throw new Error(`${name} extracted the wrong text for ${provider}`);
      return r.events;
    },
    time(provider, buf, parts, iterations) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) passFn(provider, parts);
      return Number(process.hrtime.bigint() - t0);
    },
  };
}

function relayImpl(name, format, parse, reason) {
  return {
    name,
    available: Boolean(parse),
    reason,
    check(provider, buf, parts, expected) {
      const r = parse(provider, format, buf, CHUNK, 1);
      if (r.error) throw new Error(`${name} failed on ${provider}: ${r.error}`);
      const summary = JSON.parse(r.summary);
      if (summary.text !== expected) throw new Error(`${name} extracted the wrong text for ${provider}`);
      return null;
    },
    time(provider, buf, parts, iterations) {
      // Timed around the call, as the JS rows are: the native loop's own ns is
      // reported beside it in the JSON for reference.
      const t0 = process.hrtime.bigint();
      const r = parse(provider, format, buf, CHUNK, iterations);
      const wall = Number(process.hrtime.bigint() - t0);
      this.lastNative = r.ns;
      return wall;
    },
  };
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

function run({ quick = false, tokens = 20000 } = {}) {
  const rounds = 3;
  const targetNs = (quick ? 250 : 1500) * 1e6;
  const { fn: relayParse, reason } = loadRelayParse();
  const impls = [
    jsImpl('eventsource-parser + JSON.parse', espPass),
    jsImpl('hand-written Buffer framing + JSON.parse (JS floor)', floorPass),
    relayImpl('llm-relay framing+adapter', 'discard', relayParse, reason),
    relayImpl('llm-relay framing+adapter+sse encoder', 'sse', relayParse, reason),
  ];
  const expected = expectedText(tokens);
  const results = [];
  for (const provider of ['openai', 'anthropic']) {
    const buf = execFileSync(MOCK, ['--dump', provider, '--tokens', String(tokens)], { maxBuffer: 1 << 30 });
    const parts = slices(buf);
    // Events in the recording, counted by the reference parser (which also
    // proves the JS token list still mirrors the mock's).
    const ref = espPass(provider, parts);
    if (ref.text !== expected) throw new Error(`the mock's ${provider} dump does not match lib/tokens.js`);
    const events = ref.events;
    for (const impl of impls) {
      const row = { provider, impl: impl.name, bytes: buf.length, events, tokens };
      if (!impl.available) {
        results.push({ ...row, unavailable: impl.reason });
        continue;
      }
      try {
        impl.check(provider, buf, parts, expected);
        // Warm up and calibrate: iterations for about targetNs per round.
        let iters = 1;
        let ns = impl.time(provider, buf, parts, iters);
        while (ns < 50e6 && iters < 1e6) {
          iters *= 2;
          ns = impl.time(provider, buf, parts, iters);
        }
        iters = Math.max(1, Math.round((iters * targetNs) / ns));
        const perRound = [];
        for (let r = 0; r < rounds; r++) perRound.push(impl.time(provider, buf, parts, iters) / iters);
        const nsPass = median(perRound);
        results.push({
          ...row,
          iterations: iters,
          rounds,
          nsPerEvent: nsPass / events,
          mbPerS: buf.length / 1e6 / (nsPass / 1e9),
          nsPerPassRounds: perRound,
          nativeNs: impl.lastNative,
        });
      } catch (err) {
        results.push({ ...row, unavailable: `failed: ${err.message}` });
      }
    }
  }
  return { chunkSize: CHUNK, results };
}

function printTable(out) {
  const lines = ['| stream | implementation | MB/s | ns/event |', '| --- | --- | ---: | ---: |'];
  for (const r of out.results) {
    if (r.unavailable) lines.push(`| ${r.provider} | ${r.impl} | unavailable: ${r.unavailable} | |`);
    else lines.push(`| ${r.provider} | ${r.impl} | ${r.mbPerS.toFixed(1)} | ${r.nsPerEvent.toFixed(0)} |`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const out = run({ quick: process.argv.includes('--quick'), tokens: Number(arg('tokens', 20000)) });
  const json = arg('json');
  if (json) fs.writeFileSync(json, JSON.stringify(out, null, 2));
  else console.log(printTable(out));
}

module.exports = { run, printTable };

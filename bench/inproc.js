'use strict';
// One burst stream consumed in-process with `for await`, no relay: how many
// tokens per second a variant's client side can take from the mock.
//   taskset -c 0 node bench/inproc.js --variant NAME --mock http://127.0.0.1:PORT
//        [--warm-ms 300] [--window-ms 1000] [--mock-pid PID]
// Tokens are counted from the text received (tokensInLength), so a client that
// coalesces several tokens into one delta is counted fairly, and the first 64 KiB
// of text is checked against the expected tokens. Prints one JSON object.
const fs = require('node:fs');
const { getVariant } = require('./sut/variants');
const { expectedText, tokensInLength } = require('./lib/tokens');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function readNs(path) {
  try {
    return Number(fs.readFileSync(path, 'latin1').split(' ')[0]);
  } catch {
    return 0;
  }
}

function threadsNs(pid) {
  let sum = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) sum += readNs(`/proc/${pid}/task/${tid}/schedstat`);
  } catch {
    return 0;
  }
  return sum;
}

function statNs(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 1e7;
  } catch {
    return 0;
  }
}

function sample(mockPid) {
  return {
    t: process.hrtime.bigint(),
    main: readNs(`/proc/self/task/${process.pid}/schedstat`),
    threads: threadsNs(process.pid),
    stat: statNs(process.pid),
    mock: mockPid ? threadsNs(mockPid) : 0,
  };
}

async function main() {
  const variant = getVariant(arg('variant'));
  const mockOrigin = arg('mock');
  const warmMs = Number(arg('warm-ms', 300));
  const windowMs = Number(arg('window-ms', 1000));
  const mockPid = Number(arg('mock-pid', 0));
  let impl;
  try {
    impl = await variant.create({ mockOrigin });
  } catch (err) {
    console.log(JSON.stringify({ variant: variant.name, unavailable: String(err.message) }));
    return;
  }
  if (typeof impl.consume !== 'function') {
    console.log(JSON.stringify({ variant: variant.name, unavailable: 'no in-process consumer for this row' }));
    return;
  }
  const knobs = 'tokens=1000000000,pace_us=0,epw=8';
  const ac = new AbortController();
  const CHECK = 65536;
  let length = 0;
  let head = '';
  let a = null;
  let b = null;
  let lengthA = 0;
  let lengthB = 0;
  // The window edges are checked inside the consumer, every 64 deltas and from a
  // timer: a stream that resolves reads from an internal queue with microtasks
  // only never lets a timer run while data is buffered.
  const t0 = process.hrtime.bigint();
  const warmNs = BigInt(Math.round(warmMs * 1e6));
  const endNs = BigInt(Math.round((warmMs + windowMs) * 1e6));
  let calls = 0;
  const edge = () => {
    const now = process.hrtime.bigint() - t0;
    if (a === null && now >= warmNs) {
      a = sample(mockPid);
      lengthA = length;
    }
    if (a !== null && b === null && now >= endNs) {
      b = sample(mockPid);
      lengthB = length;
      ac.abort();
    }
  };
  const tick = setInterval(edge, 5);
  const hard = setTimeout(() => ac.abort(), warmMs + windowMs + 30000);
  let error = null;
  try {
    await impl.consume(
      knobs,
      (text) => {
        if (head.length < CHECK) head += text;
        length += text.length;
        if ((++calls & 63) === 0) edge();
      },
      ac.signal,
    );
  } catch (err) {
    if (!ac.signal.aborted) error = String(err && err.message);
  }
  clearInterval(tick);
  clearTimeout(hard);
  const expected = expectedText(tokensInLength(Math.min(head.length, CHECK)) + 1);
  const correct = expected.startsWith(head.slice(0, Math.min(head.length, expected.length)));
  if (!a || !b) {
    console.log(JSON.stringify({ variant: variant.name, error: error || 'stream ended before the window', correct }));
    return;
  }
  const seconds = Number(b.t - a.t) / 1e9;
  const tokens = tokensInLength(lengthB) - tokensInLength(lengthA);
  console.log(
    JSON.stringify({
      variant: variant.name,
      tokens,
      seconds,
      tokensPerS: tokens / seconds,
      mainUsPerToken: (b.main - a.main) / 1e3 / tokens,
      procUsPerToken: Math.max(b.threads - a.threads, b.stat - a.stat) / 1e3 / tokens,
      mockCpuShare: mockPid ? (b.mock - a.mock) / 1e9 / seconds : null,
      correct,
      error,
    }),
  );
}

main().then(
  () => setTimeout(() => process.exit(0), 20),
  (err) => {
    console.log(JSON.stringify({ variant: arg('variant'), error: String(err && err.message) }));
    process.exit(0);
  },
);

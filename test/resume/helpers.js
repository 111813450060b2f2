'use strict';

// Deltas, batches and readers for the resume store tests.

/** Delta i as the worker writes it; commas, braces and quotes inside strings on purpose. */
function deltaJson(i) {
  return `${JSON.stringify({ type: 'text', text: `t${i}, "q" {b} [c] \\ é,` })},`;
}

/** Batches covering seqs from..to, `per` deltas each (the last may be shorter). */
function batches(from, to, per) {
  const out = [];
  for (let first = from; first <= to; first += per) {
    const count = Math.min(per, to - first + 1);
    let data = '';
    for (let i = first; i < first + count; i++) data += deltaJson(i);
    out.push({ first, count, data });
  }
  return out;
}

/** The seqs of the deltas in read entries, checked against each batch's count. */
function seqsOf(entries) {
  const seqs = [];
  for (const e of entries) {
    if (e.type !== 'batch') continue;
    const deltas = JSON.parse(`[${e.data.slice(0, -1)}]`);
    expect(deltas).toHaveLength(e.count);
    deltas.forEach((d, k) => {
      expect(d.text).toBe(`t${e.first + k}, "q" {b} [c] \\ é,`);
      seqs.push(e.first + k);
    });
  }
  return seqs;
}

function range(from, to) {
  const out = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** Every entry of a read, and the error it ended with (if any). */
async function collect(iterator) {
  const entries = [];
  try {
    for await (const e of iterator) entries.push(e);
  } catch (error) {
    return { entries, error };
  }
  return { entries, error: undefined };
}

/** Resolves once `fn()` is truthy, polling every 10 ms, or rejects after `ms`. */
async function until(fn, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { deltaJson, batches, seqsOf, range, collect, until, sleep };

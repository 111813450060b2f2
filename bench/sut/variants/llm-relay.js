'use strict';
// llm-relay itself, loaded from the repository root (require('..') from bench/).
// handle(): stream({...}).pipe(res, { format: 'sse' }) — the one-line relay.
// consume(): for await over the LLMStream's Delta records.
// When the package cannot load or lacks what the row needs, create() throws an
// Unavailable error and the runner prints the row as "unavailable: <reason>".
const path = require('node:path');
const { OPENAI_BODY, ANTHROPIC_BODY, openaiBase } = require('../../lib/upstream');
const { expectedText } = require('../../lib/tokens');

const ROOT = path.resolve(__dirname, '..', '..', '..');

// HOOK for the HTTP/2 row: the stream() option that makes the core speak h2c with
// prior knowledge to an http:// baseURL. Adjust here if the core names it otherwise;
// the self-test below checks with the mock that HTTP/2 was really used.
const H2_OPTIONS = Object.freeze({ http2: 'prior-knowledge' });

const TRIES = 5;

class Unavailable extends Error {}

function firstLine(s) {
  return String(s).split('\n')[0].slice(0, 200);
}

function loadRelay() {
  let relay;
  try {
    relay = require(ROOT);
  } catch (err) {
    throw new Unavailable(`require('llm-relay') failed: ${firstLine(err.message)}`);
  }
  if (typeof relay.stream !== 'function') throw new Unavailable('llm-relay exports no stream() yet');
  return relay;
}

async function mockStats(mockOrigin) {
  const r = await fetch(`${mockOrigin}/stats`);
  return r.json();
}

function make({ name, label, provider, h2 }) {
  return {
    name,
    label,
    packages: [],
    upstream: provider,
    clientMode: 'sse',
    http2: Boolean(h2),
    relay: true,
    async create(ctx) {
      const relay = loadRelay();
      const extra = h2 ? H2_OPTIONS : {};
      const body = provider === 'anthropic' ? ANTHROPIC_BODY : OPENAI_BODY;
      const options = (knobs, signal) => ({
        provider,
        // For Anthropic the mock accepts any path ending in /messages, so the
        // OpenAI-style base (…/v1) works whether the core appends /messages or /v1/messages.
        baseURL: openaiBase(ctx.mockOrigin, knobs),
        apiKey: 'x',
        body,
        signal,
        ...extra,
      });

      // Self-test: 3-token streams must arrive whole through for await. Five
      // tries: if all fail the row is unavailable; if some fail the row runs (its
      // loss columns will show it) and the failure is reported as a warning.
      const before = h2 ? await mockStats(ctx.mockOrigin) : null;
      const failures = [];
      for (let attempt = 0; attempt < TRIES; attempt++) {
        let s;
        try {
          s = relay.stream(options(attempt % 2 ? 'tokens=3,pace_us=1000' : 'tokens=3,pace_us=0'));
        } catch (err) {
          throw new Unavailable(`stream() threw: ${firstLine(err.message)}`);
        }
        if (!s || typeof s.pipe !== 'function') {
          if (s && typeof s.abort === 'function') s.abort();
          throw new Unavailable('LLMStream has no pipe() yet');
        }
        let text = '';
        const timer = setTimeout(() => s.abort && s.abort(new Error('self-test timed out')), 5000);
        try {
          for await (const d of s) if (d.type === 'text') text += d.text;
          if (text !== expectedText(3)) {
            failures.push(`expected ${JSON.stringify(expectedText(3))} but received ${JSON.stringify(text)}`);
          }
        } catch (err) {
          failures.push(`stream failed: ${firstLine(err.code || '')} ${firstLine(err.message)}`);
        } finally {
          clearTimeout(timer);
        }
      }
      if (failures.length === TRIES) throw new Unavailable(`self-test: ${failures[0]}`);
      const warnings = failures.length
        ? [`self-test: ${failures.length} of ${TRIES} streams wrong: ${failures[0]}`]
        : [];
      if (h2) {
        const after = await mockStats(ctx.mockOrigin);
        if (!after.h2) throw new Unavailable('the mock was built without HTTP/2 (libnghttp2-dev missing)');
        if (after.h2_conns_total === before.h2_conns_total) {
          throw new Unavailable(`the core did not use HTTP/2 with ${JSON.stringify(H2_OPTIONS)}`);
        }
      }

      return {
        warnings,
        handle(req, res, knobs) {
          const st = relay.stream(options(knobs));
          st.pipe(res, { format: 'sse' }).catch(() => {
            // pipe() already told the client in-band (event: error) and ended the response.
          });
        },
        async consume(knobs, onText, signal) {
          try {
            for await (const d of relay.stream(options(knobs, signal))) if (d.type === 'text') onText(d.text);
          } catch (err) {
            if (!signal.aborted) throw err;
          }
        },
      };
    },
  };
}

module.exports = {
  Unavailable,
  H2_OPTIONS,
  variants: [
    make({ name: 'llm-relay', label: 'llm-relay pipe(res)', provider: 'openai' }),
    make({ name: 'llm-relay-anthropic', label: 'llm-relay pipe(res), Anthropic upstream', provider: 'anthropic' }),
    make({ name: 'llm-relay-h2', label: 'llm-relay pipe(res), upstream HTTP/2', provider: 'openai', h2: true }),
  ],
};

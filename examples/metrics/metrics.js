'use strict';

/**
 * Prometheus metrics for llm-relay streams, from the package's diagnostics channels:
 *
 *   llm-relay:stream:start  { id, provider, model, url, startedAt }
 *   llm-relay:stream:end    { id, provider, model, format, summary, error }
 *
 * where summary.metrics is { outcome, ttfbMs, ttftMs, durationMs, deltas, bytes, retries,
 * gapP50Ms, gapP99Ms, gapMaxMs, deltasPerSecond, outputTokensPerSecond }. Nothing here touches the streams themselves:
 * a subscriber costs one function call per stream start and end, none per token.
 *
 *   const { instrumentRelay } = require('./metrics');
 *   const { registry } = instrumentRelay();
 *   app.get('/metrics', async (req, res) => res.type(registry.contentType).send(await registry.metrics()));
 */

const diagnostics = require('node:diagnostics_channel');
const { Counter, Gauge, Histogram, Registry } = require('prom-client');

const START = 'llm-relay:stream:start';
const END = 'llm-relay:stream:end';

// Seconds. Time to first token spans a fast cache hit to a long reasoning pause; a whole answer
// spans a one-liner to a long essay.
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
const DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320, 640];
// The longest silence inside one answer: what a user sees as a stall.
const GAP_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const RATE_BUCKETS = [5, 10, 20, 40, 80, 160, 320, 640];

/**
 * Subscribes to the llm-relay channels and records every stream in `registry`.
 * @param {{ registry?: Registry, prefix?: string }} [opts] prefix defaults to 'llm_relay_'
 * @returns {{ registry: Registry, stop: () => void }} stop() unsubscribes
 */
function instrumentRelay({ registry = new Registry(), prefix = 'llm_relay_' } = {}) {
  const registers = [registry];
  const labels = ['provider', 'model'];

  const started = new Counter({
    name: `${prefix}streams_started_total`,
    help: 'Streams started, by provider and model.',
    labelNames: labels,
    registers,
  });
  const inFlight = new Gauge({
    name: `${prefix}streams_in_flight`,
    help: 'Streams started and not yet ended.',
    labelNames: ['provider'],
    registers,
  });
  const ended = new Counter({
    name: `${prefix}streams_total`,
    help: 'Streams ended, by outcome (completed, aborted, timeout, error) and error code ("" when completed).',
    labelNames: [...labels, 'outcome', 'code'],
    registers,
  });
  const ttfb = new Histogram({
    name: `${prefix}time_to_first_byte_seconds`,
    help: 'From request start to the first response byte from the provider.',
    labelNames: labels,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const ttft = new Histogram({
    name: `${prefix}time_to_first_token_seconds`,
    help: 'From request start to the first content delta.',
    labelNames: labels,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const duration = new Histogram({
    name: `${prefix}stream_duration_seconds`,
    help: 'From request start to the end of the stream, by outcome.',
    labelNames: [...labels, 'outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const gapMax = new Histogram({
    name: `${prefix}token_gap_max_seconds`,
    help: 'The longest gap between two content deltas of one stream.',
    labelNames: labels,
    buckets: GAP_BUCKETS,
    registers,
  });
  const rate = new Histogram({
    name: `${prefix}tokens_per_second`,
    help: 'Output tokens per second of one stream after its first token (provider usage; content deltas per second when the provider reports no usage).',
    labelNames: labels,
    buckets: RATE_BUCKETS,
    registers,
  });
  const deltas = new Counter({
    name: `${prefix}deltas_total`,
    help: 'Content deltas received from providers.',
    labelNames: labels,
    registers,
  });
  const bytes = new Counter({
    name: `${prefix}upstream_bytes_total`,
    help: 'Response body bytes received from providers.',
    labelNames: labels,
    registers,
  });
  const retries = new Counter({
    name: `${prefix}retries_total`,
    help: 'Request retries before the first content delta.',
    labelNames: labels,
    registers,
  });
  const tokens = new Counter({
    name: `${prefix}usage_tokens_total`,
    help: 'Tokens as reported by the provider usage, by kind (input, output).',
    labelNames: [...labels, 'kind'],
    registers,
  });

  // Streams seen starting. A stream that started before we subscribed must not drive the
  // in-flight gauge below zero when it ends.
  const open = new Set();

  const onStart = (message) => {
    const l = { provider: message.provider, model: message.model || 'unknown' };
    started.inc(l);
    open.add(message.id);
    inFlight.inc({ provider: message.provider });
  };

  const onEnd = (message) => {
    const l = { provider: message.provider, model: message.model || 'unknown' };
    if (open.delete(message.id)) inFlight.dec({ provider: message.provider });
    const summary = message.summary || {};
    const m = summary.metrics || {};
    const outcome = m.outcome || (message.error ? 'error' : 'completed');
    ended.inc({ ...l, outcome, code: message.error ? String(message.error.code || 'UNKNOWN') : '' });
    duration.observe({ ...l, outcome }, (m.durationMs || 0) / 1000);
    if (typeof m.ttfbMs === 'number') ttfb.observe(l, m.ttfbMs / 1000);
    if (typeof m.ttftMs === 'number') ttft.observe(l, m.ttftMs / 1000);
    // A gap needs two deltas; a one-token answer has none worth recording.
    if (m.deltas > 1) gapMax.observe(l, m.gapMaxMs / 1000);
    // Tokens when the provider reported usage; otherwise content deltas, the closest count there is.
    const perSecond = typeof m.outputTokensPerSecond === 'number' ? m.outputTokensPerSecond : m.deltasPerSecond;
    if (typeof perSecond === 'number') rate.observe(l, perSecond);
    if (m.deltas > 0) deltas.inc(l, m.deltas);
    if (m.bytes > 0) bytes.inc(l, m.bytes);
    if (m.retries > 0) retries.inc(l, m.retries);
    const usage = summary.usage;
    if (usage && usage.inputTokens > 0) tokens.inc({ ...l, kind: 'input' }, usage.inputTokens);
    if (usage && usage.outputTokens > 0) tokens.inc({ ...l, kind: 'output' }, usage.outputTokens);
  };

  // The module-level subscribe(), not channel(name).subscribe() on a channel nobody keeps: before
  // nodejs/node#42170 was fixed such a channel was garbage collected with its subscribers.
  diagnostics.subscribe(START, onStart);
  diagnostics.subscribe(END, onEnd);

  return {
    registry,
    stop() {
      diagnostics.unsubscribe(START, onStart);
      diagnostics.unsubscribe(END, onEnd);
    },
  };
}

module.exports = { instrumentRelay };

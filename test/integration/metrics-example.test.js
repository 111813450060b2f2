'use strict';

// examples/metrics: streams relayed by the demo show up on /metrics in the Prometheus text format,
// completed and aborted ones alike, fed only by llm-relay's diagnostics channels.

const { start } = require('../../examples/metrics/server.js');

const TOKENS = ['Metrics', ' are', ' counted', ' per', ' stream.'];

/** The value of the sample `name{labels}` in a Prometheus text body, or undefined. */
function sample(text, name, labels = {}) {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = {};
    for (const pair of (match[2] || '').match(/\w+="(?:[^"\\]|\\.)*"/g) || []) {
      const eq = pair.indexOf('=');
      found[pair.slice(0, eq)] = JSON.parse(pair.slice(eq + 1));
    }
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('examples/metrics', () => {
  let app;

  beforeAll(async () => {
    app = await start({
      port: 0,
      mock: true,
      processMetrics: false,
      // Request 0 completes; request 1 is slow enough to be aborted halfway.
      mockScript: (request, n) =>
        n === 0 ? { tokens: TOKENS, ttftMs: 20, delayMs: 20 } : { tokens: Array(50).fill(' slow'), delayMs: 100 },
      log: () => {},
    });
  });

  afterAll(async () => {
    if (app) await app.close();
  });

  const chat = (signal) =>
    fetch(`${app.url}api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Count me.' }] }),
      signal,
    });

  const scrape = async () => {
    const res = await fetch(`${app.url}metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  /** Scrapes until `check(text)` holds (the end event follows the response by a moment). */
  const scrapeUntil = async (check) => {
    let text = '';
    for (let i = 0; i < 60; i++) {
      text = await scrape();
      if (check(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return text;
  };

  const model = { provider: 'openai', model: 'gpt-4o-mini' };

  test('a completed stream is counted with its latency, size and usage', async () => {
    const res = await chat();
    const body = await res.text();
    expect(body).toContain('data: [DONE]');

    const text = await scrapeUntil(
      (t) => sample(t, 'llm_relay_streams_total', { ...model, outcome: 'completed' }) === 1,
    );
    expect(sample(text, 'llm_relay_streams_started_total', model)).toBe(1);
    expect(sample(text, 'llm_relay_streams_total', { ...model, outcome: 'completed', code: '' })).toBe(1);
    expect(sample(text, 'llm_relay_streams_in_flight', { provider: 'openai' })).toBe(0);
    expect(sample(text, 'llm_relay_time_to_first_token_seconds_count', model)).toBe(1);
    expect(sample(text, 'llm_relay_time_to_first_token_seconds_sum', model)).toBeGreaterThan(0);
    expect(sample(text, 'llm_relay_time_to_first_byte_seconds_count', model)).toBe(1);
    expect(sample(text, 'llm_relay_stream_duration_seconds_count', { ...model, outcome: 'completed' })).toBe(1);
    // The answer took at least the scripted pauses between its five tokens.
    expect(sample(text, 'llm_relay_stream_duration_seconds_sum', { ...model, outcome: 'completed' })).toBeGreaterThan(
      0.08,
    );
    expect(sample(text, 'llm_relay_token_gap_max_seconds_count', model)).toBe(1);
    expect(sample(text, 'llm_relay_tokens_per_second_count', model)).toBe(1);
    expect(sample(text, 'llm_relay_deltas_total', model)).toBe(TOKENS.length);
    expect(sample(text, 'llm_relay_upstream_bytes_total', model)).toBeGreaterThan(100);
    expect(sample(text, 'llm_relay_usage_tokens_total', { ...model, kind: 'output' })).toBe(TOKENS.length);
    expect(sample(text, 'llm_relay_usage_tokens_total', { ...model, kind: 'input' })).toBeGreaterThan(0);
    expect(text).toContain('# TYPE llm_relay_time_to_first_token_seconds histogram');
    expect(text).toContain(
      'llm_relay_time_to_first_token_seconds_bucket{le="+Inf",provider="openai",model="gpt-4o-mini"} 1',
    );
  });

  test('a stream the client leaves is counted as aborted and leaves nothing in flight', async () => {
    const controller = new AbortController();
    const res = await chat(controller.signal);
    const reader = res.body.getReader();
    await reader.read();
    const record = (await app.mock.waitForRequests(2))[1];
    controller.abort();

    const text = await scrapeUntil((t) => sample(t, 'llm_relay_streams_total', { ...model, outcome: 'aborted' }) === 1);
    expect(sample(text, 'llm_relay_streams_total', { ...model, outcome: 'aborted', code: 'ABORTED' })).toBe(1);
    expect(sample(text, 'llm_relay_streams_started_total', model)).toBe(2);
    expect(sample(text, 'llm_relay_streams_in_flight', { provider: 'openai' })).toBe(0);
    expect(sample(text, 'llm_relay_stream_duration_seconds_count', { ...model, outcome: 'aborted' })).toBe(1);
    await record.closed;
    expect(record.completed).toBe(false);
  });
});

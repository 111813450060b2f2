'use strict';

// createRelay(): several forwarded steps and app events in one response, on
// a real HTTP server and the mock provider; read with the AI SDK's own
// ui-message reader.

const http = require('node:http');
const { parseJsonEventStream, uiMessageChunkSchema, readUIMessageStream } = require('ai');
const { stream, createRelay, createMemoryStore } = require('../../lib');
const { startMockProvider } = require('../../lib/testing');
const { startServer, within } = require('./relay-helpers');
const { parseSse } = require('../helpers/sse');
const { idsOf } = require('../resume/relay-client');

let mock;
let server;
let agent; // (relay, req) => Promise, the route's agent loop
let outcome; // what the route's loop ended with

/** A stream whose mock answer is SCRIPTS[model]. */
function llm(model = 'step-1', options = {}) {
  return stream({
    provider: 'openai',
    baseURL: mock.baseURL('openai'),
    apiKey: 'sk-test',
    body: { model, messages: [] },
    ...options,
  });
}

const STEP_ONE = {
  tokens: 'Let me look',
  toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }],
  delayMs: 5,
};
const STEP_TWO = { tokens: 'It is sunny in Paris', delayMs: 5 };
const SCRIPTS = {
  'step-1': STEP_ONE,
  'step-2': STEP_TWO,
  slow: { tokens: 'slow '.repeat(200), delayMs: 20 },
  'rate-limited': { status: 429, headers: { 'retry-after': '2' } },
};

/** The agent loop of the contract: status, step, tool result, step, end. */
async function twoSteps(relay) {
  relay.write({ type: 'data', name: 'status', data: { step: 1 } });
  const first = await relay.forward(llm('step-1'));
  relay.write({ type: 'data', name: 'tool-result', data: { call: first.toolCalls[0].id, result: 'sunny' } });
  const second = await relay.forward(llm('step-2'));
  relay.end();
  return [first, second];
}

beforeAll(async () => {
  mock = await startMockProvider({ script: (req) => SCRIPTS[req.body.model] });
  server = await startServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const format = url.searchParams.get('format') || 'sse';
    const relay = createRelay(res, { format, heartbeatMs: 0 });
    outcome = agent(relay).then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
  });
});

afterAll(async () => {
  await server.close();
  await mock.close();
});

test('sse: two forwarded steps and the data events arrive in order, with one [DONE]', async () => {
  agent = twoSteps;
  const res = await fetch(`${server.url}/?format=sse`, { method: 'POST' });
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const { events } = parseSse(await res.text());
  expect(events.filter((e) => e.data === '[DONE]')).toHaveLength(1);
  expect(events.at(-1).data).toBe('[DONE]');
  const deltas = events.slice(0, -1).map((e) => JSON.parse(e.data));
  // Runs of the same kind collapsed: the order of what happened.
  const kinds = deltas
    .map((d) => (d.type === 'data' ? `data:${d.name}` : d.type))
    .filter((k, i, all) => k !== 'usage' && k !== all[i - 1]);
  expect(kinds).toEqual(['data:status', 'text', 'tool-call', 'finish', 'data:tool-result', 'text', 'finish']);
  const { value } = await outcome;
  expect(value[0].toolCalls).toMatchObject([{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }]);
  expect(value[1].text).toBe('It is sunny in Paris');
  expect(
    deltas
      .filter((d) => d.type === 'text')
      .map((d) => d.text)
      .join(''),
  ).toBe('Let me lookIt is sunny in Paris');
  expect(deltas.find((d) => d.name === 'tool-result').data).toEqual({ call: 'call_1', result: 'sunny' });
});

test("ui-message: the AI SDK's reader sees one message with both steps, the tool call and the data parts", async () => {
  agent = twoSteps;
  const res = await fetch(`${server.url}/?format=ui-message`, { method: 'POST' });
  expect(res.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
  const raw = await res.text();
  expect(raw.match(/\[DONE\]/g)).toHaveLength(1);
  expect(raw.match(/"type":"start"/g)).toHaveLength(1);
  expect(raw.match(/"type":"start-step"/g)).toHaveLength(2);
  const chunks = parseJsonEventStream({ stream: new Response(raw).body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) throw result.error;
        controller.enqueue(result.value);
      },
    }),
  );
  let last;
  for await (const message of readUIMessageStream({ stream: chunks, terminateOnError: true })) last = message;
  expect(last.role).toBe('assistant');
  expect(last.parts.map((p) => p.type)).toEqual([
    'data-status',
    'step-start',
    'text',
    'tool-weather',
    'data-tool-result',
    'step-start',
    'text',
  ]);
  expect(last.parts[0].data).toEqual({ step: 1 });
  expect(last.parts[3]).toMatchObject({ toolCallId: 'call_1', state: 'input-available', input: { city: 'Paris' } });
  expect(last.parts.filter((p) => p.type === 'text').map((p) => p.text)).toEqual([
    'Let me look',
    'It is sunny in Paris',
  ]);
  await outcome;
});

test('a disconnect during step two aborts that step upstream and ends the relay; a later forward() aborts its stream', async () => {
  let third;
  agent = async (relay) => {
    await relay.forward(llm('step-1'));
    relay.write({ type: 'data', name: 'tool-result', data: 1 });
    try {
      await relay.forward(llm('slow'));
    } finally {
      third = llm();
      await expect(relay.forward(third)).rejects.toMatchObject({ code: 'ABORTED' });
    }
  };
  const before = mock.requests.length;
  await new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/?format=sse`, { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        // Step two has started: a text event after the tool result.
        const at = text.indexOf('"tool-result"');
        if (at >= 0 && text.indexOf('"type":"text"', at) >= 0) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', () => {});
    req.on('close', resolve);
    req.end();
    setTimeout(() => reject(new Error('step two never started')), 5000);
  });
  const { error } = await within(outcome, 5000, 'the agent loop ending');
  expect(error).toMatchObject({ code: 'ABORTED' });
  const stepTwo = mock.requests.slice(before).find((r) => r.body.model === 'slow');
  await within(stepTwo.closed, 2000, 'step two upstream closing');
  expect(stepTwo.endedByClient).toBe(true);
  await expect(third.done).rejects.toMatchObject({ code: 'ABORTED' });
  // The third stream never ran on: aborted at once, its request (if it arrived) closed.
  const thirdRequest = mock.requests.slice(before).filter((r) => r.body.model === 'step-1')[1];
  if (thirdRequest) await within(thirdRequest.closed, 2000, 'the third request closing');
});

test('a failed step ends the relay with its error event, and forward() rejects with it', async () => {
  agent = async (relay) => {
    relay.write({ type: 'data', name: 'status', data: 'go' });
    try {
      await relay.forward(llm('rate-limited', { retry: { attempts: 0 } }));
    } finally {
      relay.end(); // after a failure: nothing more is written
    }
  };
  const res = await fetch(`${server.url}/?format=sse`, { method: 'POST' });
  const body = await res.text();
  const { events } = parseSse(body);
  expect({ body, kinds: events.map((e) => e.event) }).toEqual({ body, kinds: ['message', 'error'] });
  expect(JSON.parse(events[1].data)).toMatchObject({ code: 'HTTP_STATUS', status: 429, retryAfterMs: 2000 });
  const { error } = await outcome;
  expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 429 });
});

test('bad calls throw INVALID_ARGUMENT naming what was wrong', async () => {
  agent = async (relay) => {
    expect(() => relay.write({ type: 'text', text: 'x' })).toThrow(
      /Expected \{ type: 'data', name, data \} for relay.write\(\)/,
    );
    expect(() => relay.write({ type: 'data', name: '', data: 1 })).toThrow(/for the data event's name/);
    expect(() => relay.write({ type: 'data', name: 'n', data: 1n })).toThrow(/JSON-serializable/);
    expect(() => relay.forward({})).toThrow(/Expected an LLMStream/);
    const used = llm();
    await used.done;
    expect(() => relay.forward(used)).toThrow(/already consumed/);
    relay.end();
    expect(() => relay.write({ type: 'data', name: 'n', data: 1 })).toThrow(/before relay.end\(\)/);
    const late = llm();
    expect(() => relay.forward(late)).toThrow(/before relay.end\(\)/);
    late.abort();
  };
  const res = await fetch(`${server.url}/?format=sse`, { method: 'POST' });
  expect(await res.text()).toBe('data: [DONE]\n\n');
  expect((await outcome).error).toBeUndefined();
  expect(() => createRelay({ format: 'nope' })).toThrow(/Expected format to be one of/);
  expect(() => createRelay({ format: 'sse', flushMs: 5 })).toThrow(/Unknown option "flushMs"/);
});

test('web: createRelay({ format }).response streams the steps; with resume it is a Promise, and a reader resumes it after any id', async () => {
  const web = createRelay({ format: 'ui-message' });
  expect(web.response).toBeInstanceOf(Response);
  const loop = twoSteps(web);
  const raw = await web.response.text();
  await loop;
  expect(raw.match(/"type":"start-step"/g)).toHaveLength(2);
  expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);

  const store = createMemoryStore();
  for (const format of ['sse', 'ui-message', 'openai']) {
    const id = `relay-${format}`;
    const resumable = createRelay({ format, resume: { store, id } });
    expect(resumable.response).toBeInstanceOf(Promise);
    const done = twoSteps(resumable);
    const response = await resumable.response;
    expect(response.headers.get('llm-relay-stream-id')).toBe(id);
    const live = await response.text();
    await done;
    await resumable.done;
    const all = await (await store.resume(id).toResponse({ format })).text();
    expect({ format, all }).toEqual({ format, all: live });
    for (const at of idsOf(live)) {
      const marker = `\nid: ${at}\n\n`;
      const rest = await (await store.resume(id, { lastEventId: at }).toResponse({ format })).text();
      expect({ format, at, text: live.slice(0, live.indexOf(marker) + marker.length) + rest }).toEqual({
        format,
        at,
        text: live,
      });
    }
    const deltas = [];
    for await (const d of store.resume(id)) deltas.push(d);
    expect(deltas.filter((d) => d.type === 'data').map((d) => d.name)).toEqual(['status', 'tool-result']);
    expect(deltas.some((d) => d.type === 'step')).toBe(false);
  }
  const busy = createRelay({ format: 'sse', resume: { store, id: 'relay-sse-busy' } });
  const again = createRelay({ format: 'sse', resume: { store, id: 'relay-sse-busy' } });
  expect((await again.response).status).toBe(409);
  await expect(again.done).rejects.toMatchObject({ status: 409 });
  busy.end();
  expect(await (await busy.response).text()).toBe('data: [DONE]\n\n');
  await store.close();
});

test('a resumable relay goes on when its client leaves; store.stop() between steps ends it with ABORTED for its readers', async () => {
  const store = createMemoryStore();
  const relay = createRelay({ format: 'sse', resume: { store, id: 'agent-1' } });
  let release;
  const toolRun = new Promise((resolve) => {
    release = resolve;
  });
  const loop = (async () => {
    await relay.forward(llm('step-1'));
    await toolRun; // a tool that takes a while
    await relay.forward(llm('step-2'));
    relay.end();
  })().catch((error) => error);
  const response = await relay.response;
  await response.body.cancel(); // the client left at once
  const reader = store.resume('agent-1').toResponse();
  await new Promise((r) => setTimeout(r, 200));
  await expect(store.stop('agent-1')).resolves.toBe(true);
  release();
  await expect(relay.done).rejects.toMatchObject({ code: 'ABORTED' });
  await expect(loop).resolves.toMatchObject({ code: 'ABORTED' });
  const { events } = parseSse(await (await reader).text());
  const deltas = events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data));
  expect(
    deltas
      .filter((d) => d.type === 'text')
      .map((d) => d.text)
      .join(''),
  ).toBe('Let me look');
  expect(events.at(-1)).toMatchObject({ event: 'error', data: expect.stringContaining('"code":"ABORTED"') });
  await store.close();
});

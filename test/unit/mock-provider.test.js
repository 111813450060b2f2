'use strict';

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const http2 = require('node:http2');
const os = require('node:os');
const path = require('node:path');

const { startMockProvider, splitTokens } = require('../../lib/testing');
const { rawRequest } = require('../helpers/raw-http');
const { parseSse, sseJson, parseNdjson } = require('../helpers/sse');

const GEMINI_PATH = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';

let mock;
afterEach(async () => {
  if (mock) await mock.close();
  mock = undefined;
});

async function post(url, body = { model: 'test-model', stream: true }, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Streams a POST with node:http and resolves once `until(text)` holds, leaving the response open.
 * Returns the request, the response and a live view of what arrived.
 */
function openStream(url, body, until) {
  return new Promise((resolve) => {
    const seen = { text: '', dataEvents: 0, error: undefined, ended: false };
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => {
        seen.text += d;
        seen.dataEvents++;
        if (until(seen.text)) resolve({ req, res, seen });
      });
      res.on('error', (err) => {
        seen.error = err;
      });
      res.on('end', () => {
        seen.ended = true;
      });
      res.on('close', () => resolve({ req, res, seen }));
    });
    req.on('error', (err) => {
      seen.error = err;
      resolve({ req, res: undefined, seen });
    });
    req.end(JSON.stringify(body));
  });
}

function waitFor(predicate, timeoutMs = 3000) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('condition not met in time'));
      return setTimeout(tick, 5);
    };
    tick();
  });
}

describe('OpenAI Chat Completions bytes', () => {
  test('streams a role chunk, one chunk per token, a finish chunk, a usage chunk and [DONE]', async () => {
    mock = await startMockProvider({ script: { tokens: 'Hello world' } });
    const { status, headers, text } = await post(`${mock.baseURL('openai')}/chat/completions`, {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [],
    });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('x-request-id')).toMatch(/^req_/);
    expect(text).not.toMatch(/^event:/m);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);

    const chunks = sseJson(text).map((e) => e.json);
    expect(chunks).toHaveLength(5);
    for (const c of chunks) {
      expect(Object.keys(c)).toEqual([
        'id',
        'object',
        'created',
        'model',
        'service_tier',
        'system_fingerprint',
        'choices',
        'usage',
        'obfuscation',
      ]);
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.id).toBe(chunks[0].id);
      expect(c.model).toBe('gpt-4o-mini');
      expect(typeof c.obfuscation).toBe('string');
    }
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: null,
    });
    expect(chunks.slice(1, 3).map((c) => c.choices[0].delta.content)).toEqual(['Hello', ' world']);
    expect(chunks[3].choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.slice(0, 4).every((c) => c.usage === null)).toBe(true);
    expect(chunks[4].choices).toEqual([]);
    expect(chunks[4].usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
  });

  test('leaves out the usage chunk and the usage key unless include_usage is asked, and obfuscation when turned off', async () => {
    mock = await startMockProvider({ script: { tokens: ['a'] } });
    const { text } = await post(mock.endpoint('openai'), {
      stream: true,
      stream_options: { include_obfuscation: false },
    });
    const chunks = sseJson(text).map((e) => e.json);
    expect(chunks).toHaveLength(3);
    for (const c of chunks) {
      expect(c).not.toHaveProperty('usage');
      expect(c).not.toHaveProperty('obfuscation');
    }
  });

  test('streams tool calls as fragments keyed by index, the first carrying id, type and name', async () => {
    mock = await startMockProvider({
      script: {
        toolCalls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
          { name: 'now', arguments: ['{', '}'] },
        ],
      },
    });
    const { text } = await post(mock.endpoint('openai'));
    const chunks = sseJson(text).map((e) => e.json);
    const deltas = chunks.map((c) => c.choices[0]).filter(Boolean);
    expect(deltas[0].delta).toMatchObject({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }],
    });
    const args = ['', ''];
    let fragments0 = 0;
    for (const d of deltas) {
      for (const call of d.delta.tool_calls || []) {
        args[call.index] += call.function.arguments || '';
        if (call.index === 0 && call.function.arguments) fragments0++;
      }
    }
    expect(args).toEqual(['{"city":"Paris","unit":"celsius"}', '{}']);
    expect(fragments0).toBeGreaterThan(1);
    const second = deltas.find((d) => (d.delta.tool_calls || []).some((t) => t.index === 1 && t.id));
    expect(second.delta.tool_calls[0]).toMatchObject({ type: 'function', function: { name: 'now' } });
    expect(deltas[deltas.length - 1].finish_reason).toBe('tool_calls');
  });

  test('streams legacy /v1/completions as text_completion chunks with choices[].text', async () => {
    mock = await startMockProvider({ script: { tokens: 'Once upon' } });
    const { text } = await post(`${mock.origin}/v1/completions`, { prompt: 'x', stream: true });
    expect(mock.requests[0].provider).toBe('openai-completions');
    const chunks = sseJson(text).map((e) => e.json);
    expect(chunks.map((c) => c.object)).toEqual(['text_completion', 'text_completion', 'text_completion']);
    expect(chunks.map((c) => c.choices[0].text)).toEqual(['Once', ' upon', '']);
    expect(chunks[2].choices[0].finish_reason).toBe('stop');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('official OpenAI SDK as the client', () => {
  const OpenAI = require('openai');

  test('reads the Chat Completions stream, tool calls and usage through the SDK', async () => {
    mock = await startMockProvider({
      script: { tokens: 'Hello SDK', toolCalls: [{ id: 'call_7', name: 'f', arguments: '{"a":1}' }] },
    });
    const client = new OpenAI({ apiKey: 'test-key', baseURL: mock.baseURL('openai'), maxRetries: 0 });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].message).toMatchObject({
      content: 'Hello SDK',
      tool_calls: [{ id: 'call_7', function: { name: 'f', arguments: '{"a":1}' } }],
    });
    expect(final.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4 });
    expect(mock.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  test('reads the Responses stream through the SDK and surfaces a mid-stream error as an APIError', async () => {
    mock = await startMockProvider({
      script: [
        { tokens: 'Hi', reasoning: 'r' },
        { tokens: 'a b', midStreamError: { after: 1, message: 'boom' } },
      ],
    });
    const client = new OpenAI({ apiKey: 'k', baseURL: mock.baseURL('openai-responses'), maxRetries: 0 });
    const response = await client.responses.stream({ model: 'gpt-5', input: 'hi' }).finalResponse();
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('Hi');
    const chat = new OpenAI({ apiKey: 'k', baseURL: mock.baseURL('openai'), maxRetries: 0 });
    await expect(
      (async () => {
        for await (const chunk of await chat.chat.completions.create({ model: 'm', messages: [], stream: true }))
          void chunk;
      })(),
    ).rejects.toThrow('boom');
  });
});

describe('OpenAI Responses bytes', () => {
  test('names every event on an event: line matching data.type, numbers them from 0 and ends with response.completed', async () => {
    mock = await startMockProvider({
      script: {
        reasoning: ['Thinking', ' hard'],
        tokens: 'Hi there',
        toolCalls: [{ id: 'call_9', name: 'lookup', arguments: '{"q":"x"}' }],
      },
    });
    const { text, headers } = await post(mock.endpoint('openai-responses'), {
      model: 'gpt-5',
      input: 'hi',
      stream: true,
    });
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(text).not.toContain('[DONE]');
    const events = sseJson(text);
    events.forEach((e, i) => {
      expect(e.json.type).toBe(e.event);
      expect(e.json.sequence_number).toBe(i);
    });
    const types = events.map((e) => e.event);
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types[types.length - 1]).toBe('response.completed');
    const of = (type) => events.filter((e) => e.event === type).map((e) => e.json);
    expect(
      of('response.reasoning_summary_text.delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Thinking hard');
    expect(of('response.output_text.delta').map((e) => e.delta)).toEqual(['Hi', ' there']);
    expect(of('response.output_text.done')[0].text).toBe('Hi there');
    const added = of('response.output_item.added').find((e) => e.item.type === 'function_call');
    expect(added.item).toMatchObject({ call_id: 'call_9', name: 'lookup', arguments: '' });
    const argDeltas = of('response.function_call_arguments.delta');
    expect(argDeltas.every((e) => e.item_id === added.item.id)).toBe(true);
    expect(argDeltas.map((e) => e.delta).join('')).toBe('{"q":"x"}');
    const completed = events[events.length - 1].json.response;
    expect(completed.status).toBe('completed');
    expect(completed.usage).toMatchObject({
      input_tokens: 10,
      output_tokens: 2 + 2 + argDeltas.length,
      output_tokens_details: { reasoning_tokens: 2 },
    });
    expect(completed.output.map((o) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
  });

  test('ends with response.incomplete when finishReason is max_output_tokens', async () => {
    mock = await startMockProvider({ script: { tokens: 'cut', finishReason: 'max_output_tokens' } });
    const events = sseJson((await post(mock.endpoint('openai-responses'))).text);
    const last = events[events.length - 1].json;
    expect(last.type).toBe('response.incomplete');
    expect(last.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});

describe('Anthropic Messages bytes', () => {
  test('streams message_start, blocks with deltas, a ping, message_delta and message_stop, each with an event: line', async () => {
    mock = await startMockProvider({
      script: {
        reasoning: 'Let me think',
        tokens: 'Hello',
        toolCalls: [{ name: 'search', arguments: '{"q":"cats"}' }],
      },
    });
    const { text, headers } = await post(`${mock.baseURL('anthropic')}/v1/messages`, {
      model: 'claude-x',
      stream: true,
      max_tokens: 10,
    });
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('request-id')).toMatch(/^req_/);
    // Anthropic spells the ping with a space, unlike every other event.
    expect(text).toContain('event: ping\ndata: {"type": "ping"}\n\n');
    expect(text).toContain('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    const events = sseJson(text);
    for (const e of events) expect(e.json.type).toBe(e.event);
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types[2]).toBe('ping');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(events[0].json.message).toMatchObject({
      model: 'claude-x',
      role: 'assistant',
      content: [],
      usage: { input_tokens: 10 },
    });
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => e.json);
    expect(
      deltas
        .filter((d) => d.delta.type === 'thinking_delta')
        .map((d) => d.delta.thinking)
        .join(''),
    ).toBe('Let me think');
    expect(deltas.filter((d) => d.delta.type === 'text_delta').map((d) => d.delta.text)).toEqual(['Hello']);
    const tool = events.find((e) => e.event === 'content_block_start' && e.json.content_block.type === 'tool_use').json;
    expect(tool.content_block).toMatchObject({ name: 'search', input: {} });
    expect(tool.content_block.id).toMatch(/^toolu_/);
    const json = deltas
      .filter((d) => d.index === tool.index)
      .map((d) => d.delta.partial_json)
      .join('');
    expect(json).toBe('{"q":"cats"}');
    expect(events[events.length - 2].json).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: expect.any(Number) },
    });
  });
});

describe('Gemini bytes', () => {
  test('frames every line with CRLF, writes ": " after keys and puts finishReason only on the last chunk', async () => {
    mock = await startMockProvider({
      script: {
        reasoning: ['Hmm'],
        tokens: 'Hi you',
        toolCalls: [{ name: 'get_time', arguments: '{"tz":"UTC"}' }],
        usage: { inputTokens: 4, outputTokens: 9 },
      },
    });
    const { text, headers } = await post(
      `${mock.baseURL('gemini')}/models/gemini-2.5-pro:streamGenerateContent?alt=sse`,
      { contents: [] },
    );
    expect(headers.get('content-type')).toBe('text/event-stream');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const rawEvents = text.split('\r\n\r\n');
    expect(rawEvents.pop()).toBe('');
    expect(rawEvents).toHaveLength(4);
    for (const e of rawEvents) {
      expect(e.startsWith('data: {"candidates": [{"content": {"parts": [')).toBe(true);
      expect(e).toContain('"role": "model"},');
    }
    const chunks = sseJson(text).map((e) => e.json);
    expect(chunks[0].candidates[0].content.parts[0]).toEqual({ text: 'Hmm', thought: true });
    expect(chunks.slice(1, 3).map((c) => c.candidates[0].content.parts[0].text)).toEqual(['Hi', ' you']);
    expect(chunks[3].candidates[0].content.parts[0]).toEqual({
      functionCall: { name: 'get_time', args: { tz: 'UTC' } },
    });
    expect(chunks.slice(0, 3).every((c) => c.candidates[0].finishReason === undefined)).toBe(true);
    expect(chunks[3].candidates[0].finishReason).toBe('STOP');
    expect(chunks[3].usageMetadata).toMatchObject({
      promptTokenCount: 4,
      candidatesTokenCount: 8,
      thoughtsTokenCount: 1,
      totalTokenCount: 13,
    });
    expect(chunks.every((c) => c.modelVersion === 'gemini-2.5-pro')).toBe(true);
  });

  test('answers 400 to a stream request without alt=sse', async () => {
    mock = await startMockProvider();
    const { status, text } = await post(`${mock.origin}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      contents: [],
    });
    expect(status).toBe(400);
    expect(JSON.parse(text).error).toMatchObject({
      code: 400,
      status: 'INVALID_ARGUMENT',
      message: expect.stringContaining('alt=sse'),
    });
  });
});

describe('Ollama bytes', () => {
  test('streams /api/chat as NDJSON lines ending with a done:true line carrying the counts', async () => {
    mock = await startMockProvider({
      script: {
        reasoning: ['hm'],
        tokens: 'a <b>',
        toolCalls: [{ name: 'f', arguments: '{"z":1,"a":"&"}' }],
        usage: { inputTokens: 3, outputTokens: 7 },
      },
    });
    const { text, headers } = await post(`${mock.baseURL('ollama')}/api/chat`, { model: 'qwen3', messages: [] });
    expect(headers.get('content-type')).toBe('application/x-ndjson');
    // Go's encoding/json escapes <, > and & and sorts map keys.
    expect(text).toContain('" \\u003cb\\u003e"');
    expect(text).toContain('"arguments":{"a":"\\u0026","z":1}');
    const lines = parseNdjson(text);
    expect(lines[0].message).toEqual({ role: 'assistant', content: '', thinking: 'hm' });
    expect(lines.slice(1, 3).map((l) => l.message.content)).toEqual(['a', ' <b>']);
    expect(lines[3].message.tool_calls).toEqual([{ function: { name: 'f', arguments: { a: '&', z: 1 } } }]);
    const last = lines[lines.length - 1];
    expect(lines.slice(0, -1).every((l) => l.done === false && l.model === 'qwen3')).toBe(true);
    expect(last).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 3, eval_count: 7 });
    expect(last.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  test('streams /api/generate with response fields and a context array', async () => {
    mock = await startMockProvider({ script: { tokens: 'x y' } });
    const lines = parseNdjson((await post(`${mock.origin}/api/generate`, { model: 'llama3.2', prompt: 'p' })).text);
    expect(lines.map((l) => l.response)).toEqual(['x', ' y', '']);
    expect(lines[2]).toMatchObject({ done: true, done_reason: 'stop', context: expect.any(Array) });
  });
});

describe('plain SSE and path inference', () => {
  test('sends one data: event per token on any other path, splitting newlines into data lines', async () => {
    mock = await startMockProvider({ script: { tokens: ['one', ' two\nthree'] } });
    const { text } = await post(`${mock.origin}/anything`, {});
    expect(text).toBe('data: one\n\ndata:  two\ndata: three\n\n');
    expect(parseSse(text).events.map((e) => e.data)).toEqual(['one', ' two\nthree']);
  });

  test('picks the format from the request path unless the provider option is given', async () => {
    mock = await startMockProvider();
    const paths = {
      '/v1/chat/completions': 'openai',
      '/v1/completions': 'openai-completions',
      '/v1/responses': 'openai-responses',
      '/v1/messages': 'anthropic',
      [GEMINI_PATH]: 'gemini',
      '/api/chat': 'ollama',
      '/api/generate': 'ollama',
      '/events': 'sse',
    };
    for (const p of Object.keys(paths)) await post(mock.origin + p, { stream: true });
    expect(mock.requests.map((r) => r.provider)).toEqual(Object.values(paths));
    await mock.close();

    mock = await startMockProvider({ provider: 'anthropic' });
    const { text } = await post(`${mock.origin}/custom/path`);
    expect(text.startsWith('event: message_start\n')).toBe(true);
    expect(mock.url).toBe(mock.origin);
  });

  test('gives each provider the base URL its client expects and the full endpoint URL', async () => {
    mock = await startMockProvider({ provider: 'openai' });
    const o = mock.origin;
    expect(o).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(mock.url).toBe(`${o}/v1`);
    expect(mock.baseURL('openai-responses')).toBe(`${o}/v1`);
    expect(mock.baseURL('anthropic')).toBe(o);
    expect(mock.baseURL('gemini')).toBe(`${o}/v1beta`);
    expect(mock.baseURL('ollama')).toBe(o);
    expect(mock.endpoint()).toBe(`${o}/v1/chat/completions`);
    expect(mock.endpoint('anthropic')).toBe(`${o}/v1/messages`);
    expect(mock.endpoint('gemini', 'gemini-2.0-flash')).toBe(
      `${o}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`,
    );
    expect(mock.endpoint('ollama')).toBe(`${o}/api/chat`);
    expect(mock.endpoint('sse')).toBe(`${o}/sse`);
  });

  test('answers "stream": false with a 400 in the provider\'s error shape', async () => {
    mock = await startMockProvider();
    const openai = await post(mock.endpoint('openai'), { stream: false });
    expect(openai.status).toBe(400);
    expect(JSON.parse(openai.text).error.message).toMatch(/"stream": false is not supported/);
    const anthropic = await post(mock.endpoint('anthropic'), { stream: false });
    expect(JSON.parse(anthropic.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const ollama = await post(mock.endpoint('ollama'), { stream: false });
    expect(JSON.parse(ollama.text)).toEqual({ error: expect.stringMatching(/not supported/) });
  });

  test('splits a string into word-ish tokens that keep their leading spaces', () => {
    expect(splitTokens('Hello world')).toEqual(['Hello', ' world']);
    expect(splitTokens(' a\n\nb  ')).toEqual([' a', '\n\nb', '  ']);
    expect(splitTokens('')).toEqual([]);
  });
});

describe('write splitting', () => {
  test('chunkSize 1 sends every byte in its own write', async () => {
    mock = await startMockProvider({ script: { tokens: 'Hi ✓ there', chunkSize: 1 } });
    const res = await rawRequest({ port: mock.port, path: '/v1/chat/completions', body: { stream: true } });
    expect(res.complete).toBe(true);
    expect(res.chunks.length).toBe(res.body.length);
    expect(res.chunks.every((c) => c.length === 1)).toBe(true);
    const text = sseJson(res.body.toString('utf8'))
      .map((e) => e.json.choices[0].delta.content || '')
      .join('');
    expect(text).toBe('Hi ✓ there');
  });

  test('randomChunks splits the body the same way for the same seed, in writes of 1 to 32 bytes', async () => {
    const sizes = [];
    for (let run = 0; run < 2; run++) {
      mock = await startMockProvider({
        script: { tokens: 'The quick brown fox jumps over the lazy dog', randomChunks: 42, model: 'fixed' },
      });
      const res = await rawRequest({ port: mock.port, path: '/api/generate', body: {} });
      sizes.push(res.chunks.map((c) => c.length));
      expect(res.chunks.every((c) => c.length >= 1 && c.length <= 32)).toBe(true);
      expect(
        parseNdjson(res.body.toString())
          .map((l) => l.response)
          .join(''),
      ).toBe('The quick brown fox jumps over the lazy dog');
      await mock.close();
      mock = undefined;
    }
    // The sizes come from the seed alone; only the last write depends on the body's length.
    const common = Math.min(sizes[0].length, sizes[1].length) - 1;
    expect(common).toBeGreaterThan(5);
    expect(sizes[0].slice(0, common)).toEqual(sizes[1].slice(0, common));
    expect(new Set(sizes[0]).size).toBeGreaterThan(3);
  });

  test('eventsPerWrite coalesces that many events into one write', async () => {
    mock = await startMockProvider({ script: { tokens: ['a', 'b', 'c', 'd', 'e'], eventsPerWrite: 3 } });
    const res = await rawRequest({ port: mock.port, path: '/sse', method: 'GET' });
    expect(res.chunks.map((c) => c.toString())).toEqual([
      'data: a\n\ndata: b\n\ndata: c\n\n',
      'data: d\n\ndata: e\n\n',
    ]);
  });

  test('waits ttftMs before the first event and delayMs between events, with headers sent at once', async () => {
    mock = await startMockProvider({ script: { tokens: ['a', 'b', 'c'], ttftMs: 150, delayMs: 40 } });
    const start = Date.now();
    const times = [];
    let headersAt;
    await new Promise((resolve, reject) => {
      http
        .get(`${mock.origin}/sse`, (res) => {
          headersAt = Date.now() - start;
          res.on('data', () => times.push(Date.now() - start));
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    expect(headersAt).toBeLessThan(120);
    expect(times[0]).toBeGreaterThanOrEqual(140);
    expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(70);
  });

  test('raw sends exactly the given bytes, split by chunkSize', async () => {
    const raw = Buffer.from('data: {"x":1}\r\n\r\n: c\n\ndata: \xff\n\n', 'latin1');
    mock = await startMockProvider({
      script: { raw, chunkSize: 5, contentType: 'text/event-stream', headers: { 'x-extra': 'yes' } },
    });
    const res = await rawRequest({ port: mock.port, path: '/v1/chat/completions', body: { stream: true } });
    expect(res.body.equals(raw)).toBe(true);
    expect(res.chunks.map((c) => c.length)).toEqual([5, 5, 5, 5, 5, 5, 1]);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-extra']).toBe('yes');
  });

  test('raw with a status sends those bytes under that status', async () => {
    mock = await startMockProvider({
      script: { raw: '<html>bad gateway</html>', status: 502, contentType: 'text/html' },
    });
    const res = await post(mock.endpoint('openai'));
    expect(res).toMatchObject({ status: 502, text: '<html>bad gateway</html>' });
    expect(res.headers.get('content-type')).toBe('text/html');
  });
});

describe('stalls, pings, resets and hangs', () => {
  test('stallAfter stops after n content events, keeps the connection open with pings, and records the client abort', async () => {
    mock = await startMockProvider({ script: { tokens: ['a', 'b', 'c', 'd'], stallAfter: 2, pingEveryMs: 30 } });
    const { req, seen } = await openStream(
      mock.endpoint('openai'),
      { stream: true },
      (t) => (t.match(/: ping\n\n/g) || []).length >= 2,
    );
    const contents = sseJson(seen.text).map((e) => e.json.choices[0].delta.content);
    expect(contents).toEqual(['', 'a', 'b']);
    expect(seen.text).not.toContain('finish_reason":"stop');
    expect(parseSse(seen.text).comments.slice(0, 2)).toEqual(['ping', 'ping']);

    const [record] = await mock.waitForRequests(1);
    expect(record.closedAt).toBeUndefined();
    req.destroy();
    await record.closed;
    expect(record.endedByClient).toBe(true);
    expect(record.completed).toBe(false);
    expect(record.closedAt).toBeGreaterThanOrEqual(record.startedAt);
  });

  test('pings the Anthropic way while stalled', async () => {
    mock = await startMockProvider({ script: { tokens: ['a', 'b'], stallAfter: 1, pingEveryMs: 20 } });
    const { req, seen } = await openStream(
      mock.endpoint('anthropic'),
      { stream: true },
      (t) => (t.match(/event: ping/g) || []).length >= 3,
    );
    const types = sseJson(seen.text).map((e) => e.event);
    expect(types.slice(0, 4)).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta']);
    expect(types.slice(4).every((t) => t === 'ping')).toBe(true);
    req.destroy();
  });

  test('resetAfter destroys the connection after n content events', async () => {
    mock = await startMockProvider({ script: { tokens: ['a', 'b', 'c'], resetAfter: 2 } });
    const { seen } = await openStream(`${mock.origin}/sse`, {}, () => false);
    expect(seen.text).toBe('data: a\n\ndata: b\n\n');
    expect(seen.ended).toBe(false);
    expect(seen.error).toMatchObject({ code: 'ECONNRESET' });
    const [record] = mock.requests;
    await record.closed;
    expect(record.endedByClient).toBe(false);
    expect(record.completed).toBe(false);
  });

  test('resetAfter sends a TCP reset under TLS too', async () => {
    mock = await startMockProvider({ tls: true, script: { tokens: ['a', 'b'], resetAfter: 1 } });
    const outcome = await new Promise((resolve) => {
      let text = '';
      const req = https.request(`${mock.origin}/sse`, { method: 'POST', ca: mock.ca }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('error', () => {});
      });
      // A FIN would surface as "socket hang up"; an RST as "read ECONNRESET".
      req.on('error', (err) => resolve({ text, message: err.message }));
      req.end('{}');
    });
    expect(outcome).toEqual({ text: 'data: a\n\n', message: 'read ECONNRESET' });
  });

  test('pings between delayed events, only at event boundaries', async () => {
    // 8-byte writes of 12-byte events: only the write ending at byte 24 ends on an event boundary.
    const raw = 'data: aaaa\n\ndata: bbbb\n\ndata: cccc\n\n';
    mock = await startMockProvider({ script: { raw, chunkSize: 8, delayMs: 40, pingEveryMs: 10 } });
    const { text } = await post(`${mock.origin}/sse`);
    const pings = /(?:: ping\n\n)+/.exec(text);
    expect(pings).not.toBeNull();
    expect(pings.index).toBe(24);
    expect(text.slice(0, 24) + text.slice(24 + pings[0].length)).toBe(raw);
  });

  test('hang accepts the request and never answers until the client gives up', async () => {
    mock = await startMockProvider({ script: { hang: true } });
    const controller = new AbortController();
    const pending = fetch(mock.endpoint('openai'), {
      method: 'POST',
      body: '{"stream":true}',
      signal: controller.signal,
    });
    const [record] = await mock.waitForRequests(1);
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    await expect(pending).rejects.toThrow();
    await record.closed;
    expect(record.endedByClient).toBe(true);
    expect(record.body).toEqual({ stream: true });
  });
});

describe('HTTP errors', () => {
  test("answers a scripted status with the provider's error body and the scripted headers", async () => {
    mock = await startMockProvider({ script: { status: 429, headers: { 'retry-after': '1' } } });
    const openai = await post(mock.endpoint('openai'));
    expect(openai.status).toBe(429);
    expect(openai.headers.get('retry-after')).toBe('1');
    expect(openai.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(openai.text).error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null });
    const gemini = await post(mock.origin + GEMINI_PATH, {});
    expect(JSON.parse(gemini.text).error).toMatchObject({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }],
    });
    const ollama = await post(mock.endpoint('ollama'), {});
    expect(JSON.parse(ollama.text)).toEqual({ error: expect.any(String) });
  });

  test('answers Anthropic 529 with overloaded_error and honours a custom errorBody', async () => {
    mock = await startMockProvider({ script: [{ status: 529 }, { status: 503, errorBody: { oops: true } }] });
    const first = await post(mock.endpoint('anthropic'));
    expect(first.status).toBe(529);
    expect(JSON.parse(first.text)).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: expect.stringMatching(/^req_/),
    });
    const second = await post(mock.endpoint('anthropic'));
    expect(second.status).toBe(503);
    expect(second.text).toBe('{"oops":true}');
  });
});

describe('mid-stream errors and missing end markers', () => {
  test("sends each provider's own mid-stream error after n content events and no end marker", async () => {
    const err = { after: 1, type: 'overloaded_error', message: 'Overloaded now' };
    mock = await startMockProvider({ script: { tokens: ['a', 'b', 'c'], midStreamError: err } });

    const openai = sseJson((await post(mock.endpoint('openai'))).text);
    expect(openai.map((e) => (e.json.choices ? e.json.choices[0].delta.content : e.json.error.message))).toEqual([
      '',
      'a',
      'Overloaded now',
    ]);
    expect(openai[2].json.error).toEqual({
      message: 'Overloaded now',
      type: 'overloaded_error',
      param: null,
      code: null,
    });

    const anthropicText = (await post(mock.endpoint('anthropic'))).text;
    const anthropic = sseJson(anthropicText);
    expect(anthropic[anthropic.length - 1]).toEqual({
      event: 'error',
      json: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded now' } },
    });
    expect(anthropicText).not.toContain('message_stop');

    const responses = sseJson((await post(mock.endpoint('openai-responses'))).text);
    const last = responses[responses.length - 1];
    expect(last.event).toBe('error');
    expect(last.json).toMatchObject({
      type: 'error',
      code: 'overloaded_error',
      message: 'Overloaded now',
      sequence_number: responses.length - 1,
    });

    const gemini = sseJson((await post(mock.origin + GEMINI_PATH, {})).text);
    expect(gemini).toHaveLength(2);
    expect(gemini[1].json).toEqual({ error: { code: 500, message: 'Overloaded now', status: 'overloaded_error' } });

    const ollama = parseNdjson((await post(mock.endpoint('ollama'), {})).text);
    expect(ollama.map((l) => (l.message ? l.message.content : l.error))).toEqual(['a', 'Overloaded now']);
  });

  test('can fail a Responses stream with response.failed instead of an error event', async () => {
    mock = await startMockProvider({
      script: { tokens: 'x', midStreamError: { event: 'response.failed', message: 'boom' } },
    });
    const events = sseJson((await post(mock.endpoint('openai-responses'))).text);
    const last = events[events.length - 1];
    expect(last.event).toBe('response.failed');
    expect(last.json.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'boom' } });
    expect(events.map((e) => e.json.sequence_number)).toEqual(events.map((_, i) => i));
  });

  test('omitEndMarker ends each format cleanly without its terminal signal', async () => {
    mock = await startMockProvider({ script: { tokens: 'a b', omitEndMarker: true } });
    const openai = (await post(mock.endpoint('openai'))).text;
    expect(openai).not.toContain('[DONE]');
    expect(openai).toContain('"finish_reason":"stop"');
    const anthropic = sseJson((await post(mock.endpoint('anthropic'))).text).map((e) => e.event);
    expect(anthropic[anthropic.length - 1]).toBe('message_delta');
    const responses = sseJson((await post(mock.endpoint('openai-responses'))).text).map((e) => e.event);
    expect(responses).not.toContain('response.completed');
    const gemini = sseJson((await post(mock.origin + GEMINI_PATH, {})).text);
    expect(gemini.some((e) => e.json.candidates[0].finishReason)).toBe(false);
    const ollama = parseNdjson((await post(mock.endpoint('ollama'), {})).text);
    expect(ollama.some((l) => l.done)).toBe(false);
    expect(mock.requests.every((r) => r.completed)).toBe(true);
  });
});

describe('fixture replay', () => {
  let dir;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mock-fixtures-'));
    fs.writeFileSync(
      path.join(dir, 'chat.sse'),
      'data: {"choices":[{"delta":{"content":"hi"}}]}\r\n\r\n: comment\n\ndata: [DONE]\n\n',
    );
    fs.writeFileSync(path.join(dir, 'rate.json'), '{"error":{"code":402,"message":"Insufficient credits"}}');
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify([
        {
          name: 'chat',
          provider: 'openai',
          file: 'chat.sse',
          status: 200,
          contentType: 'text/event-stream',
          headers: { 'X-Generation-Id': 'gen-1' },
        },
        { name: 'rate', provider: 'openai', file: 'rate.json', status: 402, contentType: 'application/json' },
      ]),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('replays a recorded file byte for byte with its status, content type and headers', async () => {
    mock = await startMockProvider({
      fixturesDir: dir,
      script: [{ fixture: 'chat', chunkSize: 7 }, { fixture: 'rate' }, { fixture: 'nope' }],
    });
    const first = await rawRequest({ port: mock.port, path: '/v1/chat/completions', body: { stream: true } });
    expect(first.body.equals(fs.readFileSync(path.join(dir, 'chat.sse')))).toBe(true);
    expect(first.headers['x-generation-id']).toBe('gen-1');
    expect(first.headers['content-type']).toBe('text/event-stream');
    expect(first.chunks.slice(0, -1).every((c) => c.length === 7)).toBe(true);

    const second = await post(mock.endpoint('openai'));
    expect(second.status).toBe(402);
    expect(second.text).toBe(fs.readFileSync(path.join(dir, 'rate.json'), 'utf8'));

    const third = await post(mock.endpoint('openai'));
    expect(third.status).toBe(500);
    expect(third.text).toMatch(/fixture "nope" is not in .*manifest\.json; known fixtures: chat, rate/);
    expect(mock.requests[2].error).toMatch(/not in/);
  });

  test('replays every fixture of the package manifest byte for byte', async () => {
    const fixturesDir = path.resolve(__dirname, '..', 'fixtures');
    const manifest = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'manifest.json'), 'utf8'));
    expect(manifest.length).toBeGreaterThan(0);
    mock = await startMockProvider({ script: (request) => ({ fixture: request.body.fixture, randomChunks: 7 }) });
    for (const entry of manifest) {
      const res = await rawRequest({
        port: mock.port,
        path: entry.path || '/sse',
        body: { fixture: entry.name, stream: true },
      });
      const expected = fs.readFileSync(path.join(fixturesDir, entry.file));
      expect({ name: entry.name, status: res.status, same: res.body.equals(expected) }).toEqual({
        name: entry.name,
        status: entry.status || 200,
        same: true,
      });
      if (entry.contentType) expect(res.headers['content-type']).toBe(entry.contentType);
    }
  });

  test("cuts a fixture after n of its events and appends the provider's error", async () => {
    mock = await startMockProvider({
      fixturesDir: dir,
      script: { fixture: 'chat', midStreamError: { after: 1, message: 'cut' } },
    });
    const { text } = await post(mock.endpoint('openai'));
    expect(text).toBe(
      'data: {"choices":[{"delta":{"content":"hi"}}]}\r\n\r\ndata: {"error":{"message":"cut","type":"server_error","param":null,"code":null}}\n\n',
    );
  });
});

describe('TLS and HTTP/2', () => {
  test('serves HTTPS with a generated CA that clients can trust through mock.ca', async () => {
    mock = await startMockProvider({ tls: true, script: { tokens: 'secure' } });
    expect(mock.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(mock.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const get = (options) =>
      new Promise((resolve, reject) => {
        https
          .get(`${mock.origin}/sse`, options, (res) => {
            let body = '';
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () => resolve({ body, version: res.httpVersion }));
          })
          .on('error', reject);
      });
    await expect(get({ ca: mock.ca })).resolves.toEqual({ body: 'data: secure\n\n', version: '1.1' });
    await expect(get({})).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  test('serves HTTPS with a caller-supplied key and certificate', async () => {
    const { getTestCertificates } = require('../helpers/tls');
    const { key, cert, ca } = await getTestCertificates();
    mock = await startMockProvider({ tls: { key, cert, ca }, host: 'localhost', script: { tokens: 'own cert' } });
    expect(mock.origin).toMatch(/^https:\/\/localhost:\d+$/);
    expect(mock.ca).toBe(ca);
    const body = await new Promise((resolve, reject) => {
      https
        .get(mock.endpoint('sse'), { ca }, (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe('data: own\n\ndata:  cert\n\n');
  });

  test('speaks h2c with prior knowledge and records httpVersion 2.0', async () => {
    mock = await startMockProvider({ http2: true, script: { tokens: 'over h2' } });
    const session = http2.connect(mock.origin);
    const body = await new Promise((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': '/v1/chat/completions',
        'content-type': 'application/json',
      });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        text += d;
      });
      req.on('end', () => resolve(text));
      req.on('error', reject);
      req.end('{"stream":true}');
    });
    session.close();
    expect(
      sseJson(body)
        .map((e) => e.json.choices[0].delta.content)
        .join(''),
    ).toBe('over h2');
    expect(mock.requests[0].httpVersion).toBe('2.0');
    expect(mock.requests[0].body).toEqual({ stream: true });
    await mock.requests[0].closed;
    expect(mock.requests[0]).toMatchObject({ completed: true, endedByClient: false });
  });

  test('resets an HTTP/2 stream with RST_STREAM INTERNAL_ERROR and keeps the session', async () => {
    mock = await startMockProvider({
      http2: true,
      script: [{ tokens: ['a', 'b'], resetAfter: 1 }, { tokens: 'fine' }],
    });
    const session = http2.connect(mock.origin);
    const first = await new Promise((resolve) => {
      const req = session.request({ ':path': '/sse' });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        text += d;
      });
      req.on('error', () => {});
      req.on('close', () => resolve({ text, rstCode: req.rstCode }));
    });
    expect(first).toEqual({ text: 'data: a\n\n', rstCode: http2.constants.NGHTTP2_INTERNAL_ERROR });
    const second = await new Promise((resolve, reject) => {
      const req = session.request({ ':path': '/sse' });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        text += d;
      });
      req.on('end', () => resolve(text));
      req.on('error', reject);
    });
    expect(second).toBe('data: fine\n\n');
    session.close();
  });

  test('close() ends stalled HTTP/2 streams and sessions quickly', async () => {
    mock = await startMockProvider({ http2: true, script: { stallAfter: 1, pingEveryMs: 10 } });
    const session = http2.connect(mock.origin);
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': '/v1/chat/completions' });
    req.on('error', () => {});
    req.end('{"stream":true}');
    await new Promise((resolve) => req.once('data', resolve));
    const start = Date.now();
    await mock.close();
    expect(Date.now() - start).toBeLessThan(500);
    await new Promise((resolve) => (session.destroyed ? resolve() : session.once('close', resolve)));
    expect(mock.requests[0].endedByClient).toBe(false);
  });

  test('negotiates h2 over TLS through ALPN and still serves HTTP/1.1 clients', async () => {
    mock = await startMockProvider({ tls: true, http2: true, script: { tokens: 'both' } });
    const session = http2.connect(mock.origin, { ca: mock.ca });
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
    expect(session.alpnProtocol).toBe('h2');
    await new Promise((resolve, reject) => {
      const req = session.request({ ':path': '/sse' });
      req.resume();
      req.on('end', resolve);
      req.on('error', reject);
    });
    session.close();
    const viaHttp1 = await new Promise((resolve, reject) => {
      https
        .get(`${mock.origin}/sse`, { ca: mock.ca }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    expect(viaHttp1).toBe('data: both\n\n');
    expect(mock.requests.map((r) => r.httpVersion)).toEqual(['2.0', '1.1']);
  });

  test('records an HTTP/2 client that cancels its stream as ended by the client', async () => {
    mock = await startMockProvider({ http2: true, script: { stallAfter: 1 } });
    const session = http2.connect(mock.origin);
    const req = session.request({ ':method': 'POST', ':path': '/v1/messages' });
    req.on('error', () => {});
    req.end('{"stream":true}');
    await new Promise((resolve) => req.once('data', resolve));
    req.close(http2.constants.NGHTTP2_CANCEL);
    const [record] = mock.requests;
    await record.closed;
    expect(record.endedByClient).toBe(true);
    session.close();
  });
});

describe('request log, scripts and lifecycle', () => {
  test('records method, path, headers and parsed body, and plays an array script one scenario per request with the last repeating', async () => {
    mock = await startMockProvider({ script: [{ tokens: 'one' }, { tokens: 'two' }] });
    const texts = [];
    for (let i = 0; i < 3; i++) {
      texts.push((await post(`${mock.origin}/sse?i=${i}`, { i }, { 'x-test': String(i) })).text);
    }
    expect(texts).toEqual(['data: one\n\n', 'data: two\n\n', 'data: two\n\n']);
    await waitFor(() => mock.requests.every((r) => r.closedAt !== undefined));
    const r = mock.requests[2];
    expect(r).toMatchObject({
      n: 2,
      method: 'POST',
      path: '/sse?i=2',
      body: { i: 2 },
      httpVersion: '1.1',
      completed: true,
      endedByClient: false,
    });
    expect(r.headers['x-test']).toBe('2');
    expect(r.startedAt).toBeLessThanOrEqual(r.closedAt);
  });

  test('calls a script function with the request and its index', async () => {
    const script = jest.fn(async (request, n) => ({ tokens: `${request.body.say}#${n}` }));
    mock = await startMockProvider({ script });
    expect((await post(`${mock.origin}/sse`, { say: 'hey' })).text).toBe('data: hey#0\n\n');
    expect(script).toHaveBeenCalledWith(expect.objectContaining({ n: 0, path: '/sse' }), 0);
  });

  test('keeps a non-JSON body as a string', async () => {
    mock = await startMockProvider();
    await post(`${mock.origin}/sse`, 'plain text');
    expect(mock.requests[0].body).toBe('plain text');
  });

  test('rejects unknown options and scenario keys with a message naming them', async () => {
    await expect(startMockProvider({ scirpt: {} })).rejects.toThrow(/unknown option "scirpt"/);
    await expect(startMockProvider({ script: { stallafter: 1 } })).rejects.toThrow(/unknown scenario key "stallafter"/);
    await expect(startMockProvider({ script: [{}, { chunkSize: 0 }] })).rejects.toThrow(
      /script\[1\]: expected a positive integer for chunkSize but received 0/,
    );
    await expect(startMockProvider({ script: { stallAfter: 1, resetAfter: 1 } })).rejects.toThrow(/only one of/);
  });

  test('answers 500 with the reason when a script function returns an invalid scenario', async () => {
    mock = await startMockProvider({ script: () => ({ tokens: 5 }) });
    const res = await post(`${mock.origin}/sse`);
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/expected a string or an array of strings for tokens but received 5/);
  });

  test('waitForRequests resolves once n requests arrived and rejects after its timeout', async () => {
    mock = await startMockProvider();
    const waiting = mock.waitForRequests(2, 2000);
    await post(`${mock.origin}/sse`);
    await post(`${mock.origin}/sse`);
    await expect(waiting).resolves.toHaveLength(2);
    await expect(mock.waitForRequests(3, 30)).rejects.toThrow(/expected 3 requests within 30 ms but received 2/);
  });

  test('close() finishes quickly while streams are stalled, requests hang and connections idle', async () => {
    mock = await startMockProvider({ script: [{ stallAfter: 0, pingEveryMs: 10 }, { hang: true }, { tokens: 'x' }] });
    const stalled = await openStream(`${mock.origin}/sse`, {}, () => true);
    const hanging = openStream(`${mock.origin}/sse`, {}, () => false);
    const agent = new http.Agent({ keepAlive: true });
    await new Promise((resolve, reject) => {
      http
        .get(`${mock.origin}/sse`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    await mock.waitForRequests(3);
    const start = Date.now();
    await mock.close();
    expect(Date.now() - start).toBeLessThan(500);
    const hung = await hanging;
    expect(hung.seen.error || hung.res).toBeDefined();
    await waitFor(() => stalled.res.destroyed || stalled.seen.ended || stalled.seen.error !== undefined);
    for (const r of mock.requests) await r.closed;
    expect(mock.requests.every((r) => r.endedByClient === false)).toBe(true);
    await expect(mock.close()).resolves.toBeUndefined();
    agent.destroy();
  });
});

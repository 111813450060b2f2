'use strict';

// Ollama native streaming (docs/wire-formats.md §7.1): NDJSON, one Go-encoded JSON object per
// '\n'-terminated line, a final line with done:true, done_reason and the eval counts (durations in
// nanoseconds). /api/chat puts text in message.content and reasoning in message.thinking;
// /api/generate uses response / thinking. Tool calls arrive whole with arguments as an object.

const { goJson, sortKeysDeep } = require('../json');

// Wall-clock nanoseconds from the monotonic clock, so successive lines never go back in time.
const EPOCH_OFFSET_NS = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();

/** RFC 3339 with nanoseconds, as Go's time.Time marshals: 2025-08-06T12:00:00.123456789Z. */
function createdAt() {
  const ns = EPOCH_OFFSET_NS + process.hrtime.bigint();
  const seconds = new Date(Number(ns / 1000000000n) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${String(ns % 1000000000n).padStart(9, '0')}Z`;
}

function parseArgs(call) {
  if (call.arguments.trim() === '') return {};
  try {
    // Go marshals map[string]any with sorted keys.
    return sortKeysDeep(JSON.parse(call.arguments));
  } catch {
    throw new TypeError(
      `ollama sends tool call arguments as a whole JSON object: toolCalls "${call.name}" arguments must be valid JSON but received ${JSON.stringify(call.arguments)}`,
    );
  }
}

function line(object) {
  return `${goJson(object)}\n`;
}

function metrics(ctx) {
  const { inputTokens, outputTokens } = ctx.scenario.usage;
  const promptEvalDuration = 1000000 * (5 + inputTokens);
  const evalDuration = 20000000 * Math.max(1, outputTokens);
  const loadDuration = 25000000;
  return {
    total_duration: loadDuration + promptEvalDuration + evalDuration,
    load_duration: loadDuration,
    prompt_eval_count: inputTokens,
    prompt_eval_duration: promptEvalDuration,
    eval_count: outputTokens,
    eval_duration: evalDuration,
  };
}

function* chatEvents(ctx) {
  const { scenario } = ctx;
  const message = (fields) =>
    line({ model: ctx.model, created_at: createdAt(), message: { role: 'assistant', ...fields }, done: false });
  for (const token of scenario.reasoning) yield { data: message({ content: '', thinking: token }), content: true };
  for (const token of scenario.tokens) yield { data: message({ content: token }), content: true };
  for (const call of scenario.toolCalls) {
    const fn = { name: call.name, arguments: parseArgs(call) };
    // Newer servers add an id; send one only when the scenario names it.
    const toolCall = call.id ? { id: call.id, function: fn } : { function: fn };
    yield { data: message({ content: '', tool_calls: [toolCall] }), content: true };
  }
  if (ctx.omitEndMarker) return;
  yield {
    data: line({
      model: ctx.model,
      created_at: createdAt(),
      message: { role: 'assistant', content: '' },
      done_reason: scenario.finishReason || 'stop',
      done: true,
      ...metrics(ctx),
    }),
    content: false,
  };
}

function* generateEvents(ctx) {
  const { scenario } = ctx;
  if (scenario.toolCalls.length > 0) {
    throw new TypeError('ollama /api/generate has no tool calls: use /api/chat or remove toolCalls from the scenario');
  }
  for (const token of scenario.reasoning) {
    yield {
      data: line({ model: ctx.model, created_at: createdAt(), response: '', thinking: token, done: false }),
      content: true,
    };
  }
  for (const token of scenario.tokens) {
    yield { data: line({ model: ctx.model, created_at: createdAt(), response: token, done: false }), content: true };
  }
  if (ctx.omitEndMarker) return;
  const context = Array.from(
    { length: Math.min(8, scenario.usage.inputTokens + scenario.usage.outputTokens) },
    (_, i) => 128000 + i,
  );
  yield {
    data: line({
      model: ctx.model,
      created_at: createdAt(),
      response: '',
      done: true,
      done_reason: scenario.finishReason || 'stop',
      context,
      ...metrics(ctx),
    }),
    content: false,
  };
}

function* events(ctx) {
  yield* ctx.variant === 'generate' ? generateEvents(ctx) : chatEvents(ctx);
}

/** Mid-stream error: an NDJSON line {"error":"…"} (a string, not an object). */
function errorEvents(ctx, err) {
  return [line({ error: err.message || 'an error was encountered while running the model' })];
}

function errorBody(status, ctx, message) {
  let text = message;
  if (!text) {
    if (status === 404) text = `model "${ctx && ctx.model ? ctx.model : 'llama3.2'}" not found, try pulling it first`;
    else if (status >= 500) text = 'an error was encountered while running the model';
    else text = 'invalid request';
  }
  return { contentType: 'application/json; charset=utf-8', body: line({ error: text }).trimEnd() };
}

module.exports = {
  name: 'ollama',
  framing: 'ndjson',
  contentType: 'application/x-ndjson',
  defaultModel: 'llama3.2',
  // NDJSON has no comment syntax and Ollama sends no keep-alives, so pingEveryMs does nothing here.
  ping: null,
  responseHeaders: () => ({}),
  events,
  errorEvents,
  errorBody,
};

'use strict';

// OpenAI Responses API streaming (docs/wire-formats.md §4): every event has an `event: <type>` line and a
// `data:` JSON whose `type` equals it, plus a 0-based increasing `sequence_number`. No [DONE]: the
// stream ends after response.completed / response.incomplete / response.failed.

const { randomHex, randomAlnum, obfuscation } = require('../random');
const { sseEvent, sseComment } = require('./sse-frame');
const openai = require('./openai');

// finishReason values that end in response.incomplete, mapped to incomplete_details.reason.
const INCOMPLETE = {
  incomplete: 'max_output_tokens',
  max_output_tokens: 'max_output_tokens',
  content_filter: 'content_filter',
};

function includeObfuscation(ctx) {
  return openai.streamOptions(ctx).includeObfuscation;
}

function responseObject(ctx, state, status, output, usage, extra = {}) {
  const body = ctx.request.body && typeof ctx.request.body === 'object' ? ctx.request.body : {};
  return {
    id: state.responseId,
    object: 'response',
    created_at: ctx.created,
    status,
    background: false,
    error: extra.error || null,
    incomplete_details: extra.incompleteDetails || null,
    instructions: body.instructions === undefined ? null : body.instructions,
    max_output_tokens: body.max_output_tokens === undefined ? null : body.max_output_tokens,
    model: ctx.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id === undefined ? null : body.previous_response_id,
    reasoning: { effort: null, summary: null },
    service_tier: status === 'in_progress' ? 'auto' : 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  };
}

function usageObject(ctx) {
  const { inputTokens, outputTokens } = ctx.scenario.usage;
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: ctx.scenario.reasoning.length },
    total_tokens: inputTokens + outputTokens,
  };
}

function stateOf(ctx) {
  if (!ctx.state.responses) ctx.state.responses = { seq: 0, responseId: `resp_${randomHex(48)}` };
  return ctx.state.responses;
}

function* events(ctx) {
  const { scenario } = ctx;
  const state = stateOf(ctx);
  const obfuscate = includeObfuscation(ctx);
  const ev = (type, fields, content = false) => ({
    data: sseEvent(JSON.stringify({ type, sequence_number: state.seq++, ...fields }), { event: type }),
    content,
  });
  // Delta events carry obfuscation padding after their payload fields (docs/wire-formats.md §4).
  const pad = (fields) => (obfuscate ? { ...fields, obfuscation: obfuscation() } : fields);

  const output = [];
  yield ev('response.created', { response: responseObject(ctx, state, 'in_progress', [], null) });
  yield ev('response.in_progress', { response: responseObject(ctx, state, 'in_progress', [], null) });

  if (scenario.reasoning.length > 0) {
    const outputIndex = output.length;
    const itemId = `rs_${randomHex(48)}`;
    const ids = { item_id: itemId, output_index: outputIndex, summary_index: 0 };
    yield ev('response.output_item.added', {
      output_index: outputIndex,
      item: { id: itemId, type: 'reasoning', summary: [] },
    });
    yield ev('response.reasoning_summary_part.added', { ...ids, part: { type: 'summary_text', text: '' } });
    for (const token of scenario.reasoning) {
      yield ev('response.reasoning_summary_text.delta', pad({ ...ids, delta: token }), true);
    }
    const text = scenario.reasoning.join('');
    yield ev('response.reasoning_summary_text.done', { ...ids, text });
    yield ev('response.reasoning_summary_part.done', { ...ids, part: { type: 'summary_text', text } });
    const item = { id: itemId, type: 'reasoning', summary: [{ type: 'summary_text', text }] };
    output.push(item);
    yield ev('response.output_item.done', { output_index: outputIndex, item });
  }

  if (scenario.tokens.length > 0) {
    const outputIndex = output.length;
    const itemId = `msg_${randomHex(48)}`;
    const ids = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    yield ev('response.output_item.added', {
      output_index: outputIndex,
      item: { id: itemId, type: 'message', status: 'in_progress', content: [], role: 'assistant' },
    });
    yield ev('response.content_part.added', {
      ...ids,
      part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
    });
    for (const token of scenario.tokens) {
      yield ev('response.output_text.delta', pad({ ...ids, delta: token, logprobs: [] }), true);
    }
    const text = scenario.tokens.join('');
    yield ev('response.output_text.done', { ...ids, text, logprobs: [] });
    const part = { type: 'output_text', annotations: [], logprobs: [], text };
    yield ev('response.content_part.done', { ...ids, part });
    const item = { id: itemId, type: 'message', status: 'completed', content: [part], role: 'assistant' };
    output.push(item);
    yield ev('response.output_item.done', { output_index: outputIndex, item });
  }

  for (const call of scenario.toolCalls) {
    const outputIndex = output.length;
    const itemId = `fc_${randomHex(48)}`;
    const callId = call.id || `call_${randomAlnum(24)}`;
    yield ev('response.output_item.added', {
      output_index: outputIndex,
      item: {
        id: itemId,
        type: 'function_call',
        status: 'in_progress',
        arguments: '',
        call_id: callId,
        name: call.name,
      },
    });
    for (const fragment of call.fragments) {
      yield ev(
        'response.function_call_arguments.delta',
        pad({ item_id: itemId, output_index: outputIndex, delta: fragment }),
        true,
      );
    }
    yield ev('response.function_call_arguments.done', {
      item_id: itemId,
      output_index: outputIndex,
      arguments: call.arguments,
    });
    const item = {
      id: itemId,
      type: 'function_call',
      status: 'completed',
      arguments: call.arguments,
      call_id: callId,
      name: call.name,
    };
    output.push(item);
    yield ev('response.output_item.done', { output_index: outputIndex, item });
  }

  if (ctx.omitEndMarker) return;
  const finish = scenario.finishReason || 'completed';
  if (finish === 'failed') {
    const error = { code: 'server_error', message: 'The model failed to generate a response.' };
    yield ev('response.failed', {
      response: responseObject(ctx, state, 'failed', output, usageObject(ctx), { error }),
    });
  } else if (INCOMPLETE[finish]) {
    const incompleteDetails = { reason: INCOMPLETE[finish] };
    yield ev('response.incomplete', {
      response: responseObject(ctx, state, 'incomplete', output, usageObject(ctx), { incompleteDetails }),
    });
  } else if (finish === 'completed') {
    yield ev('response.completed', { response: responseObject(ctx, state, 'completed', output, usageObject(ctx)) });
  } else {
    throw new TypeError(
      `openai-responses: expected finishReason 'completed', 'incomplete', 'max_output_tokens', 'content_filter' or 'failed' but received ${JSON.stringify(finish)}`,
    );
  }
}

/**
 * Mid-stream error: the stream-level `error` event (top-level code/message/param, not nested), or
 * with `event: 'response.failed'` a failed response carrying response.error.
 */
function errorEvents(ctx, err) {
  const state = stateOf(ctx);
  // Sequence numbers count the events sent; ctx.emitted says how many were (the generator may have
  // numbered one more event that the cut then dropped).
  if (ctx.emitted !== undefined) state.seq = ctx.emitted;
  const message = err.message || 'An error occurred while processing your request.';
  const code = err.code === undefined ? err.type || 'server_error' : err.code;
  if (err.event === 'response.failed') {
    const response = responseObject(ctx, state, 'failed', [], null, { error: { code, message } });
    return [
      sseEvent(JSON.stringify({ type: 'response.failed', sequence_number: state.seq++, response }), {
        event: 'response.failed',
      }),
    ];
  }
  return [
    sseEvent(JSON.stringify({ type: 'error', sequence_number: state.seq++, code, message, param: null }), {
      event: 'error',
    }),
  ];
}

module.exports = {
  name: 'openai-responses',
  framing: 'sse',
  contentType: 'text/event-stream; charset=utf-8',
  defaultModel: 'gpt-4o-mini-2024-07-18',
  ping: sseComment('ping'),
  responseHeaders: openai.openaiHeaders,
  events,
  errorEvents,
  errorBody: openai.errorBody,
};

'use strict';

// OpenAI Chat Completions streaming (docs/wire-formats.md §2): `data:` lines only, one
// chat.completion.chunk per event, a role chunk first, a finish chunk with `delta: {}`, a usage
// chunk with `choices: []` when the request asked for stream_options.include_usage, then the literal
// `data: [DONE]`.

const { randomAlnum, randomHex, obfuscation } = require('../random');
const { sseEvent, sseComment } = require('./sse-frame');
const errors = require('./openai-errors');

const CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** Headers every OpenAI response carries (docs/wire-formats.md §2, "Response headers"). */
function openaiHeaders() {
  return {
    'x-request-id': `req_${randomHex(32)}`,
    'openai-version': '2020-10-01',
    'openai-processing-ms': '120',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-remaining-tokens': '29999990',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-reset-tokens': '0s',
  };
}

function streamOptions(ctx) {
  const body = ctx.request.body;
  const options =
    body && typeof body === 'object' && body.stream_options && typeof body.stream_options === 'object'
      ? body.stream_options
      : {};
  return {
    includeUsage: options.include_usage === true,
    // Obfuscation is on unless the request turns it off.
    includeObfuscation: options.include_obfuscation !== false,
  };
}

function usageObject(ctx) {
  const { inputTokens, outputTokens } = ctx.scenario.usage;
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: ctx.scenario.reasoning.length,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function* events(ctx) {
  const { scenario } = ctx;
  const { includeUsage, includeObfuscation } = streamOptions(ctx);
  const id = `chatcmpl-${randomAlnum(29)}`;
  const fingerprint = `fp_${randomHex(10)}`;

  const chunk = (choices, usage) => {
    const object = {
      id,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.model,
      service_tier: 'default',
      system_fingerprint: fingerprint,
      choices,
    };
    if (includeUsage) object.usage = usage === undefined ? null : usage;
    if (includeObfuscation) object.obfuscation = obfuscation();
    return sseEvent(JSON.stringify(object));
  };
  const delta = (d, finishReason = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
  const toolHeader = (call, index) => ({
    index,
    id: call.id || `call_${randomAlnum(24)}`,
    type: 'function',
    function: { name: call.name, arguments: '' },
  });

  const textual = scenario.tokens.length > 0 || scenario.reasoning.length > 0;
  // A tool-only answer opens with the role and the first call's id and name in one chunk, as OpenAI
  // does; a textual answer opens with `content: ""`.
  if (textual || scenario.toolCalls.length === 0) {
    yield { data: delta({ role: 'assistant', content: '', refusal: null }), content: false };
  }
  for (const token of scenario.reasoning) {
    // OpenAI itself streams no reasoning; compatible hosts (DeepSeek, vLLM) use reasoning_content.
    yield { data: delta({ content: null, reasoning_content: token }), content: true };
  }
  for (const token of scenario.tokens) {
    yield { data: delta({ content: token }), content: true };
  }
  for (let i = 0; i < scenario.toolCalls.length; i++) {
    const call = scenario.toolCalls[i];
    if (i === 0 && !textual) {
      yield {
        data: delta({ role: 'assistant', content: null, tool_calls: [toolHeader(call, i)], refusal: null }),
        content: false,
      };
    } else {
      yield { data: delta({ tool_calls: [toolHeader(call, i)] }), content: false };
    }
    for (const fragment of call.fragments) {
      yield { data: delta({ tool_calls: [{ index: i, function: { arguments: fragment } }] }), content: true };
    }
  }
  const finishReason = scenario.finishReason || (scenario.toolCalls.length > 0 ? 'tool_calls' : 'stop');
  yield { data: delta({}, finishReason), content: false };
  if (includeUsage) yield { data: chunk([], usageObject(ctx)), content: false };
  if (!ctx.omitEndMarker) yield { data: 'data: [DONE]\n\n', content: false };
}

/** Mid-stream error: a `data:` event with a top-level `error` object and no `choices`. */
function errorEvents(ctx, err) {
  return [
    sseEvent(
      JSON.stringify({
        error: {
          message: err.message || 'The server had an error while processing your request. Sorry about that!',
          type: err.type || 'server_error',
          param: null,
          code: err.code === undefined ? null : err.code,
        },
      }),
    ),
  ];
}

module.exports = {
  name: 'openai',
  framing: 'sse',
  contentType: CONTENT_TYPE,
  defaultModel: 'gpt-4o-mini-2024-07-18',
  ping: sseComment('ping'),
  responseHeaders: openaiHeaders,
  events,
  errorEvents,
  errorBody: errors.errorBody,
  openaiHeaders,
  streamOptions,
};

'use strict';

// Anthropic Messages streaming (docs/wire-formats.md §5): every event has `event: <name>` and a
// `data: {"type":"<name>",…}` line. message_start → per block content_block_start /
// content_block_delta×N / content_block_stop → message_delta → message_stop. A `ping` follows the
// first content_block_start. The real API writes compact JSON except the ping, which it spells
// `{"type": "ping"}` with a space.

const { randomAlnum, randomHex } = require('../random');
const { sseEvent } = require('./sse-frame');

const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

const ERRORS = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low to access the Anthropic API.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out.'],
  529: ['overloaded_error', 'Overloaded'],
};

function base62(length) {
  return randomAlnum(length);
}

function ev(object) {
  return sseEvent(JSON.stringify(object), { event: object.type });
}

function* events(ctx) {
  const { scenario } = ctx;
  const { inputTokens, outputTokens } = scenario.usage;
  yield {
    data: ev({
      type: 'message_start',
      message: {
        id: `msg_01${base62(22)}`,
        type: 'message',
        role: 'assistant',
        model: ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: inputTokens,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: Math.min(1, outputTokens),
          service_tier: 'standard',
        },
      },
    }),
    content: false,
  };

  let index = 0;
  let pinged = false;
  function* block(contentBlock) {
    yield { data: ev({ type: 'content_block_start', index, content_block: contentBlock }), content: false };
    if (!pinged) {
      pinged = true;
      yield { data: PING, content: false };
    }
  }
  const delta = (d) => ev({ type: 'content_block_delta', index, delta: d });
  const stop = () => ev({ type: 'content_block_stop', index: index++ });

  if (scenario.reasoning.length > 0) {
    yield* block({ type: 'thinking', thinking: '', signature: '' });
    for (const token of scenario.reasoning)
      yield { data: delta({ type: 'thinking_delta', thinking: token }), content: true };
    // The opaque signature arrives just before the thinking block stops.
    yield {
      data: delta({ type: 'signature_delta', signature: Buffer.from(randomHex(64)).toString('base64') }),
      content: false,
    };
    yield { data: stop(), content: false };
  }
  if (scenario.tokens.length > 0) {
    yield* block({ type: 'text', text: '' });
    for (const token of scenario.tokens) yield { data: delta({ type: 'text_delta', text: token }), content: true };
    yield { data: stop(), content: false };
  }
  for (const call of scenario.toolCalls) {
    yield* block({ type: 'tool_use', id: call.id || `toolu_01${base62(22)}`, name: call.name, input: {} });
    // The first input_json_delta is usually empty.
    yield { data: delta({ type: 'input_json_delta', partial_json: '' }), content: false };
    for (const fragment of call.fragments)
      yield { data: delta({ type: 'input_json_delta', partial_json: fragment }), content: true };
    yield { data: stop(), content: false };
  }
  if (!pinged) yield { data: PING, content: false };

  const stopReason = scenario.finishReason || (scenario.toolCalls.length > 0 ? 'tool_use' : 'end_turn');
  yield {
    data: ev({
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    }),
    content: false,
  };
  if (!ctx.omitEndMarker) yield { data: ev({ type: 'message_stop' }), content: false };
}

/** Mid-stream error: `event: error`, e.g. overloaded_error, then the connection closes without message_stop. */
function errorEvents(ctx, err) {
  return [ev({ type: 'error', error: { type: err.type || 'overloaded_error', message: err.message || 'Overloaded' } })];
}

function errorBody(status, ctx, message) {
  const [type, text] = ERRORS[status] || (status >= 500 ? ERRORS[500] : ERRORS[400]);
  return {
    contentType: 'application/json',
    body: JSON.stringify({
      type: 'error',
      error: { type, message: message || text },
      request_id: `req_011${base62(21)}`,
    }),
  };
}

function responseHeaders() {
  const reset = new Date(Date.now() + 60000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'cache-control': 'no-cache',
    'request-id': `req_011${base62(21)}`,
    'anthropic-organization-id': '00000000-0000-4000-8000-000000000000',
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-tokens-limit': '400000',
    'anthropic-ratelimit-tokens-remaining': '400000',
    'anthropic-ratelimit-tokens-reset': reset,
  };
}

module.exports = {
  name: 'anthropic',
  framing: 'sse',
  contentType: 'text/event-stream; charset=utf-8',
  defaultModel: 'claude-sonnet-4-20250514',
  ping: PING,
  responseHeaders,
  events,
  errorEvents,
  errorBody,
};

'use strict';

// Plain SSE (provider 'sse'): one `data:` event per text token, `event: reasoning` events for
// reasoning tokens, `event: tool_call` events whose data is {id, name, arguments}, and no end marker.
// It is the generic upstream for `stream({ provider: 'sse', url })`.

const { sseEvent, sseComment } = require('./sse-frame');

function* events(ctx) {
  const { scenario } = ctx;
  for (const token of scenario.reasoning) yield { data: sseEvent(token, { event: 'reasoning' }), content: true };
  for (const token of scenario.tokens) yield { data: sseEvent(token), content: true };
  for (const call of scenario.toolCalls) {
    yield {
      data: sseEvent(JSON.stringify({ id: call.id || null, name: call.name, arguments: call.arguments }), {
        event: 'tool_call',
      }),
      content: true,
    };
  }
}

function errorEvents(ctx, err) {
  return [
    sseEvent(JSON.stringify({ type: err.type || 'server_error', message: err.message || 'The upstream failed.' }), {
      event: 'error',
    }),
  ];
}

function errorBody(status, ctx, message) {
  return {
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ error: { status, message: message || `Mock provider answered with HTTP ${status}.` } }),
  };
}

module.exports = {
  name: 'sse',
  framing: 'sse',
  contentType: 'text/event-stream; charset=utf-8',
  defaultModel: 'mock',
  ping: sseComment('ping'),
  responseHeaders: () => ({ 'cache-control': 'no-cache' }),
  events,
  errorEvents,
  errorBody,
};

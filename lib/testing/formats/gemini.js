'use strict';

// Google Gemini streamGenerateContent?alt=sse (docs/wire-formats.md §6): `data: <GenerateContentResponse>`
// events framed with CRLF (each line ends in \r\n, events are separated by \r\n\r\n), JSON spelled
// with ': ' after keys, a cumulative usageMetadata on every chunk, finishReason on the last chunk,
// and no end marker: the stream just ends. Function calls arrive whole (args is an object).

const crypto = require('node:crypto');
const { googleJson } = require('../json');
const { sseEvent, sseComment } = require('./sse-frame');

const EOL = '\r\n';

const STATUS = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'Request had invalid authentication credentials.'],
  403: ['PERMISSION_DENIED', 'Permission denied: API key not valid.'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: [
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};
const CODE_OF_STATUS = Object.fromEntries(Object.entries(STATUS).map(([code, [status]]) => [status, Number(code)]));

function parseArgs(call) {
  if (call.arguments.trim() === '') return {};
  try {
    return JSON.parse(call.arguments);
  } catch {
    throw new TypeError(
      `gemini sends function call args as a whole JSON object: toolCalls "${call.name}" arguments must be valid JSON but received ${JSON.stringify(call.arguments)}`,
    );
  }
}

function* events(ctx) {
  const { scenario } = ctx;
  const responseId = crypto.randomBytes(17).toString('base64url');
  const { inputTokens, outputTokens } = scenario.usage;
  const parts = [];
  for (const token of scenario.reasoning) parts.push({ part: { text: token, thought: true }, thought: true });
  for (const token of scenario.tokens) parts.push({ part: { text: token }, thought: false });
  for (const call of scenario.toolCalls) {
    const functionCall = call.id
      ? { id: call.id, name: call.name, args: parseArgs(call) }
      : { name: call.name, args: parseArgs(call) };
    parts.push({ part: { functionCall }, thought: false });
  }
  const finishReason = scenario.finishReason || 'STOP';

  let candidates = 0;
  let thoughts = 0;
  const chunk = (part, last) => {
    const candidate = { content: { parts: [part], role: 'model' } };
    if (last && ctx.complete) candidate.finishReason = finishReason;
    candidate.index = 0;
    // usageMetadata is cumulative; the last chunk reports the scenario's totals.
    const candidateCount = last && ctx.complete ? Math.max(0, outputTokens - thoughts) : candidates;
    // Protobuf JSON leaves out zero counts, so a thoughts-only chunk has no candidatesTokenCount.
    const usageMetadata = {
      promptTokenCount: inputTokens,
      candidatesTokenCount: candidateCount > 0 ? candidateCount : undefined,
      totalTokenCount: inputTokens + candidateCount + thoughts,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: inputTokens }],
    };
    if (thoughts > 0) usageMetadata.thoughtsTokenCount = thoughts;
    return sseEvent(googleJson({ candidates: [candidate], usageMetadata, modelVersion: ctx.model, responseId }), {
      eol: EOL,
    });
  };

  for (let i = 0; i < parts.length; i++) {
    if (parts[i].thought) thoughts++;
    else candidates++;
    yield { data: chunk(parts[i].part, i === parts.length - 1), content: true };
  }
  if (parts.length === 0 && ctx.complete) yield { data: chunk({ text: '' }, true), content: false };
}

/** Mid-stream error: `data: {"error": {…}}` in the Google error envelope. */
function errorEvents(ctx, err) {
  const status = err.type || 'INTERNAL';
  const code = typeof err.code === 'number' ? err.code : CODE_OF_STATUS[status] || 500;
  const message = err.message || (STATUS[code] ? STATUS[code][1] : 'An internal error has occurred.');
  return [sseEvent(googleJson({ error: { code, message, status } }), { eol: EOL })];
}

/** Google's error envelope, pretty-printed as Google's frontends send it. */
function errorBody(status, ctx, message, headers = {}) {
  const [statusName, text] = STATUS[status] || (status >= 500 ? STATUS[500] : STATUS[400]);
  const error = { code: status, message: message || text, status: statusName };
  if (status === 429) {
    const seconds = Number(headers['retry-after']);
    error.details = [
      {
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay: `${Number.isFinite(seconds) ? seconds : 30}s`,
      },
    ];
  }
  return { contentType: 'application/json; charset=UTF-8', body: `${JSON.stringify({ error }, null, 2)}\n` };
}

module.exports = {
  name: 'gemini',
  framing: 'sse',
  eol: EOL,
  contentType: 'text/event-stream',
  defaultModel: 'gemini-2.5-flash',
  ping: sseComment('ping', EOL),
  responseHeaders: () => ({
    vary: 'Origin, X-Origin, Referer',
    server: 'scaffolding on HTTPServer2',
    'x-content-type-options': 'nosniff',
    'x-xss-protection': '0',
    'x-frame-options': 'SAMEORIGIN',
  }),
  events,
  errorEvents,
  errorBody,
};

'use strict';

// What pipe() and toResponse() share: option validation, the response
// headers of each downstream format, the heartbeat bytes, and the HTTP status
// an error becomes when `errorStatus` holds the headers back.

const { invalidArgument, TIMEOUT_CODES } = require('../errors');
const { describe, isPlainObject, checkHeaders } = require('../validate');
const { inBandError } = require('./in-band-error');
const { resumeOption } = require('./resume-producer');

// setTimeout's limit: a larger delay silently becomes 1 ms.
const MAX_DELAY_MS = 2 ** 31 - 1;
const DEFAULT_HEARTBEAT_MS = 15_000;

// Errors that carry the HTTP status a server answers with (lib/resume/errors.js).
const OWN_STATUS_CODES = new Set(['NOT_FOUND', 'STORE_UNAVAILABLE', 'LIMIT', 'INVALID_ARGUMENT', 'PRODUCER_LOST']);

const EVENT_STREAM = 'text/event-stream; charset=utf-8';
const PING = Buffer.from(': ping\n\n');
const BLANK_LINE = Buffer.from('\n');

/**
 * The downstream formats. `heartbeat` is what goes out while the stream is
 * idle, so proxies and load balancers with idle timeouts (nginx
 * proxy_read_timeout 60 s, AWS ALB 60 s) keep the connection open:
 * - SSE-based formats send an SSE comment, which every SSE parser skips
 *   (WHATWG HTML §9.2.6: lines starting with ':' are ignored); the `openai`
 *   SDK and the AI SDK (eventsource-parser) both do.
 * - ndjson sends a blank line. JSON text may be surrounded by whitespace
 *   (RFC 8259 §2), and a newline-splitting reader has to skip empty lines
 *   anyway (the piece after the last '\n' is empty); the `ndjson` and
 *   `split2`-based readers do. A reader that calls JSON.parse on every line,
 *   empty ones included, must use `heartbeatMs: 0`.
 * - text has no way to say "nothing": any byte would become part of the
 *   answer, so it sends no heartbeat.
 */
const FORMATS = Object.freeze({
  sse: Object.freeze({ contentType: EVENT_STREAM, heartbeat: PING, extraHeaders: [] }),
  openai: Object.freeze({ contentType: EVENT_STREAM, heartbeat: PING, extraHeaders: [] }),
  // createUIMessageStreamResponse sends this header; custom AI SDK transports
  // use it to recognise the protocol version.
  'ui-message': Object.freeze({
    contentType: EVENT_STREAM,
    heartbeat: PING,
    extraHeaders: [['x-vercel-ai-ui-message-stream', 'v1']],
  }),
  ndjson: Object.freeze({ contentType: 'application/x-ndjson', heartbeat: BLANK_LINE, extraHeaders: [] }),
  text: Object.freeze({ contentType: 'text/plain; charset=utf-8', heartbeat: null, extraHeaders: [] }),
});
const FORMAT_NAMES = Object.keys(FORMATS);

const PIPE_KEYS = ['format', 'heartbeatMs', 'flushMs', 'headers', 'errorStatus', 'resume'];
const RESPONSE_KEYS = ['format', 'heartbeatMs', 'flushMs', 'headers', 'signal', 'resume'];

// Response headers the relay sets itself: a user value would break its
// framing (a Content-Length ends the stream early, Content-Encoding makes the
// browser decompress plain bytes) or is hop-by-hop, which HTTP/2 forbids and
// Node manages on HTTP/1.1.
const FRAMING = 'the relay streams the body itself (chunked, uncompressed)';
const HOP = 'hop-by-hop connection header: Node manages the connection (and HTTP/2 forbids it)';
const FORBIDDEN_RESPONSE_HEADERS = new Map([
  ['content-length', FRAMING],
  ['transfer-encoding', FRAMING],
  ['content-encoding', FRAMING],
  ['trailer', FRAMING],
  ['connection', HOP],
  ['keep-alive', HOP],
  ['proxy-connection', HOP],
  ['upgrade', HOP],
]);

function checkDelay(value, name, fallback) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS) {
    throw invalidArgument(
      `Expected a non-negative integer number of milliseconds (at most ${MAX_DELAY_MS}) for ${name} but received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Validates the options of pipe() (`api` 'pipe') or toResponse()
 * (`api` 'toResponse'). Throws RelayError INVALID_ARGUMENT.
 * @returns {{format: string, heartbeatMs: number, flushMs: number, headers: Array<[string, string|string[]]>, errorStatus: boolean, signal: AbortSignal|undefined, resume: object|undefined, spec: object}}
 */
function relayOptions(opts, api) {
  const where = `${api}() options`;
  if (opts === undefined || opts === null) opts = {};
  if (!isPlainObject(opts)) throw invalidArgument(`Expected an object for the ${where} but received ${describe(opts)}`);
  const known = api === 'pipe' ? PIPE_KEYS : RESPONSE_KEYS;
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    if (api === 'toResponse' && key === 'errorStatus') {
      // A Response must exist before the provider has answered, so its status
      // cannot depend on that answer. Returning Promise<Response> only for
      // this option would give one method two return types; pipe() has it.
      throw invalidArgument(
        'toResponse() does not support errorStatus: the Response is returned before the provider answers, so an error ' +
          "reaches the client in-band as the format's error event. Use pipe(res, { errorStatus: true }) for a real HTTP status.",
      );
    }
    throw invalidArgument(`Unknown option ${JSON.stringify(key)} in the ${where}; expected one of ${known.join(', ')}`);
  }
  const format = opts.format === undefined ? 'sse' : opts.format;
  if (typeof format !== 'string' || !Object.hasOwn(FORMATS, format)) {
    throw invalidArgument(
      `Expected format to be one of ${FORMAT_NAMES.map((f) => `'${f}'`).join(', ')} but received ${describe(format)}`,
    );
  }
  if (opts.errorStatus !== undefined && typeof opts.errorStatus !== 'boolean') {
    throw invalidArgument(`Expected a boolean for errorStatus but received ${describe(opts.errorStatus)}`);
  }
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgument(`Expected an AbortSignal for signal but received ${describe(signal)}`);
  }
  return {
    format,
    heartbeatMs: checkDelay(opts.heartbeatMs, 'heartbeatMs', DEFAULT_HEARTBEAT_MS),
    flushMs: checkDelay(opts.flushMs, 'flushMs', 0),
    headers: checkHeaders(opts.headers, 'headers', FORBIDDEN_RESPONSE_HEADERS),
    errorStatus: opts.errorStatus === true,
    signal,
    // A resumable relay: { store, id, abandonAfterMs } (resume-producer.js).
    resume: opts.resume === undefined ? undefined : resumeOption(opts.resume, where),
    spec: FORMATS[format],
  };
}

/**
 * The streaming response headers as [name, value] pairs, user headers last
 * (so they may override ours).
 * - `no-transform` keeps compression middleware (compression() honours it),
 *   CDNs and mobile proxies from buffering the body to compress or rewrite it.
 * - `X-Accel-Buffering: no` turns off nginx proxy buffering for this response.
 * - `Connection: keep-alive` only when the caller knows the response is
 *   HTTP/1.1 and the connection stays open: it is a hop-by-hop header that
 *   HTTP/2 forbids (RFC 9113 §8.2.2).
 */
function streamHeaders(options, { keepAlive }) {
  const out = [
    ['Content-Type', options.spec.contentType],
    ['Cache-Control', 'no-cache, no-transform'],
  ];
  if (keepAlive) out.push(['Connection', 'keep-alive']);
  out.push(['X-Accel-Buffering', 'no']);
  for (const pair of options.spec.extraHeaders) out.push(pair);
  for (const pair of options.headers) out.push(pair);
  return out;
}

/**
 * The HTTP answer for an error that happened before the provider's stream
 * began (`errorStatus: true`): a provider 429 stays 429 with Retry-After, a
 * timeout is 504, a resume store's error its own status (404, 409, 410,
 * 503), anything else is 502 (the upstream failed, not the client).
 * The message of an HTTP_STATUS error is the plain status line, not the
 * provider's error body: that body can hold account details or a masked API
 * key (OpenAI's 401 does), which a browser must not see. The full error stays
 * on the rejected promise.
 * @returns {{status: number, headers: Array<[string, string]>, body: string}}
 */
function errorAnswer(error) {
  let status = 502;
  let message = error.message;
  const headers = [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Cache-Control', 'no-store'],
  ];
  if (error.code === 'HTTP_STATUS') {
    message = `The provider answered HTTP ${error.status}`;
    if (error.status === 429) {
      status = 429;
      if (Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0) {
        // Retry-After is whole seconds (RFC 9110 §10.2.3); rounding down
        // would invite a retry before the provider allows one.
        headers.push(['Retry-After', String(Math.ceil(error.retryAfterMs / 1000))]);
      }
    }
  } else if (TIMEOUT_CODES.has(error.code)) {
    status = 504;
  } else if (
    OWN_STATUS_CODES.has(error.code) &&
    Number.isInteger(error.status) &&
    error.status >= 400 &&
    error.status <= 599
  ) {
    // The resume store's answers: an unknown stream 404, a live id 409, a
    // trimmed log 410, the store unreachable 503.
    status = error.status;
  }
  // The same members as an in-band error, so a browser reads either alike.
  const fields = inBandError(error);
  fields.message = message;
  return { status, headers, body: JSON.stringify({ error: fields }) };
}

module.exports = { relayOptions, streamHeaders, errorAnswer, FORMATS, FORMAT_NAMES, DEFAULT_HEARTBEAT_MS };

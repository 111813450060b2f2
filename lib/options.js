'use strict';

// Validates stream() options and turns them into the native request config.
// Every message names the option, says what was expected and what arrived.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { invalidArgument } = require('./errors');
const { redactURL, secretsOf } = require('./redact');
const { describe, isPlainObject, checkHeaders, codePoint } = require('./validate');
const { PROVIDERS, PROVIDER_NAMES } = require('./providers');

const DEFAULT_TIMEOUTS = Object.freeze({ connectMs: 10_000, firstByteMs: 60_000, idleMs: 30_000, totalMs: 600_000 });
const DEFAULT_RETRY = Object.freeze({ attempts: 2, baseDelayMs: 500, maxDelayMs: 8_000 });
const KNOWN_OPTIONS = new Set([
  'provider',
  'baseURL',
  'url',
  'apiKey',
  'headers',
  'body',
  'signal',
  'timeouts',
  'retry',
  'tls',
  'model',
  'maxEventBytes',
  'http2',
]);

function checkInteger(value, name, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`Expected an integer between ${min} and ${max} for ${name} but received ${describe(value)}`);
  }
  return value;
}

// C0 and C1 controls, space and DEL. new URL() strips or encodes them, but
// curl gets the original string: a NUL ends it early (the request goes to
// another path and "succeeds"), CR/LF/TAB/space fail later as NETWORK.
const URL_CONTROL = /[\x00-\x20\x7f-\x9f]/;

function checkURL(value, name) {
  if (typeof value !== 'string' || value === '') {
    throw invalidArgument(`Expected a URL string for ${name} but received ${describe(value)}`);
  }
  const control = URL_CONTROL.exec(value);
  if (control !== null) {
    throw invalidArgument(
      `Expected ${name} to hold no control character or space but it has ${codePoint(control[0])} at index ${control.index}; ` +
        'percent-encode it',
    );
  }
  let parsed;
  try {
    parsed = new URL(value);
  } catch {
    throw invalidArgument(`Expected an absolute http(s) URL for ${name} but received ${describe(redactURL(value))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidArgument(`Expected an http: or https: URL for ${name} but received protocol ${parsed.protocol}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Refused rather than redacted: curl would turn them into a Basic
    // Authorization header that competes with the provider's own, and a URL
    // travels into logs, diagnostics records and error messages.
    throw invalidArgument(
      `Expected no credentials (user:password@) in ${name}: a URL ends up in logs and diagnostics records. ` +
        'Pass them as headers (e.g. { Authorization }) or apiKey',
    );
  }
  return value;
}

// Request headers curl derives from the request itself. A user value would
// contradict it: `Content-Length: 2` with a longer body is the shape of
// request smuggling, a larger one hangs until timeouts.firstByteMs.
const FRAMING = 'it sets the request framing, which curl derives from the body';
const HOP = 'hop-by-hop connection header: curl manages the connection (and HTTP/2 forbids it)';
const FORBIDDEN_REQUEST_HEADERS = new Map([
  ['content-length', FRAMING],
  ['transfer-encoding', FRAMING],
  ['expect', `${FRAMING} (100-continue would hold the body back)`],
  ['host', 'curl sets it from the URL; put the host in baseURL or url'],
  ['connection', HOP],
  ['keep-alive', HOP],
  ['proxy-connection', HOP],
  ['upgrade', HOP],
  ['te', HOP],
  ['trailer', HOP],
]);

/** Headers as "Name: value" lines (validated: no CR/LF injection). */
function headerLines(headers, name) {
  const lines = [];
  for (const [key, value] of checkHeaders(headers, name, FORBIDDEN_REQUEST_HEADERS)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${v}`);
  }
  return lines;
}

const caFiles = new Map();
let cleanupRegistered = false;

/** A PEM file for curl (the GnuTLS backend takes CA files, not blobs). */
function caFile(ca) {
  const list = Array.isArray(ca) ? ca : [ca];
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string' && !Buffer.isBuffer(item)) {
      throw invalidArgument(`Expected PEM strings or Buffers for tls.ca but received ${describe(item)} at ${i}`);
    }
  }
  const pem = list.map((item) => item.toString()).join('\n');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw invalidArgument('Expected tls.ca to hold PEM certificates (-----BEGIN CERTIFICATE-----)');
  }
  const hash = crypto.createHash('sha256').update(pem).digest('hex').slice(0, 24);
  let file = caFiles.get(hash);
  if (file === undefined) {
    file = path.join(os.tmpdir(), `llm-relay-ca-${process.pid}-${hash}.pem`);
    fs.writeFileSync(file, pem, { mode: 0o600 });
    caFiles.set(hash, file);
    if (!cleanupRegistered) {
      cleanupRegistered = true;
      process.once('exit', () => {
        for (const f of caFiles.values()) fs.rmSync(f, { force: true });
      });
    }
  }
  return file;
}

// Random bytes for response ids, drawn from the CSPRNG a pool at a time: one
// randomBytes() call per stream cost more than the rest of normalize().
const ID_BYTES = 12;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

/** A fresh random response id, `chatcmpl-relay` + 24 hex digits. */
function responseId() {
  if (idOffset === idPool.length) {
    crypto.randomFillSync(idPool);
    idOffset = 0;
  }
  const id = `chatcmpl-relay${idPool.toString('hex', idOffset, idOffset + ID_BYTES)}`;
  idOffset += ID_BYTES;
  return id;
}

/** The request body as JSON; a BigInt, a cycle or a throwing toJSON is the caller's input error. */
function serialize(body) {
  try {
    return JSON.stringify(body);
  } catch (err) {
    const e = invalidArgument(
      `Expected body to be serializable as JSON but JSON.stringify failed: ${err && err.message}`,
    );
    e.cause = err;
    throw e;
  }
}

/**
 * Validates options and builds the native config.
 * @returns {{ config: object, provider: string, signal?: AbortSignal, model?: string }}
 */
function normalize(options) {
  if (!isPlainObject(options)) throw invalidArgument(`Expected an options object but received ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw invalidArgument(`Unknown option '${key}'. Known options: ${[...KNOWN_OPTIONS].join(', ')}`);
    }
  }
  const { provider } = options;
  if (typeof provider !== 'string' || !Object.hasOwn(PROVIDERS, provider)) {
    throw invalidArgument(
      `Expected provider to be one of ${PROVIDER_NAMES.map((p) => `'${p}'`).join(', ')} but received ${describe(provider)}`,
    );
  }
  const spec = PROVIDERS[provider];

  let body = options.body;
  if (body === undefined) body = {};
  if (!isPlainObject(body))
    throw invalidArgument(
      `Expected body to be a plain object (the provider's request body) but received ${describe(body)}`,
    );

  if (options.baseURL !== undefined) checkURL(options.baseURL, 'baseURL');
  // Like the official SDKs: OPENAI_BASE_URL, ANTHROPIC_BASE_URL, ... point
  // every stream of that provider at a gateway, a proxy or a local mock.
  const envBase = spec.envBaseURL !== undefined ? process.env[spec.envBaseURL] : undefined;
  if (options.baseURL === undefined && envBase) checkURL(envBase, spec.envBaseURL);
  if (options.url !== undefined) checkURL(options.url, 'url');
  if (spec.needsURL && options.url === undefined) {
    throw invalidArgument(`Expected url (the full SSE endpoint) for provider '${provider}' but received undefined`);
  }

  const model = options.model !== undefined ? options.model : body.model;
  if (options.model !== undefined && (typeof options.model !== 'string' || options.model === '')) {
    throw invalidArgument(`Expected model to be a non-empty string but received ${describe(options.model)}`);
  }
  if (spec.needsModel && (typeof model !== 'string' || model === '') && options.url === undefined) {
    throw invalidArgument(
      `Expected model (options.model or body.model) for provider '${provider}' but received ${describe(model)}`,
    );
  }

  let apiKey = options.apiKey;
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw invalidArgument(`Expected apiKey to be a non-empty string but received ${typeof apiKey}`);
  }
  if (apiKey === undefined) {
    for (const name of spec.envKey) {
      if (process.env[name]) {
        apiKey = process.env[name];
        break;
      }
    }
  }
  if (apiKey !== undefined && /[\r\n\0]/.test(apiKey)) throw invalidArgument('apiKey contains a line break or NUL');
  const customEndpoint = options.baseURL !== undefined || options.url !== undefined || Boolean(envBase);
  if (apiKey === undefined && !spec.optionalKey && !customEndpoint) {
    throw invalidArgument(`Missing API key for provider '${provider}': pass apiKey or set ${spec.envKey.join(' or ')}`);
  }

  const timeouts = { ...DEFAULT_TIMEOUTS };
  if (options.timeouts !== undefined) {
    if (!isPlainObject(options.timeouts))
      throw invalidArgument(`Expected timeouts to be a plain object but received ${describe(options.timeouts)}`);
    for (const [key, value] of Object.entries(options.timeouts)) {
      if (!Object.hasOwn(DEFAULT_TIMEOUTS, key)) {
        throw invalidArgument(`Unknown option 'timeouts.${key}'. Known: ${Object.keys(DEFAULT_TIMEOUTS).join(', ')}`);
      }
      if (value !== undefined) timeouts[key] = checkInteger(value, `timeouts.${key}`, { max: 2 ** 31 - 1 });
    }
  }
  const retry = { ...DEFAULT_RETRY };
  if (options.retry !== undefined && options.retry !== false) {
    if (!isPlainObject(options.retry))
      throw invalidArgument(`Expected retry to be a plain object or false but received ${describe(options.retry)}`);
    for (const [key, value] of Object.entries(options.retry)) {
      if (!Object.hasOwn(DEFAULT_RETRY, key)) {
        throw invalidArgument(`Unknown option 'retry.${key}'. Known: ${Object.keys(DEFAULT_RETRY).join(', ')}`);
      }
      if (value !== undefined)
        retry[key] = checkInteger(value, `retry.${key}`, { max: key === 'attempts' ? 10 : 2 ** 31 - 1 });
    }
  } else if (options.retry === false) {
    retry.attempts = 0;
  }

  const tlsConfig = {};
  if (options.tls !== undefined) {
    if (!isPlainObject(options.tls))
      throw invalidArgument(`Expected tls to be a plain object but received ${describe(options.tls)}`);
    for (const key of Object.keys(options.tls)) {
      if (key !== 'ca' && key !== 'rejectUnauthorized')
        throw invalidArgument(`Unknown option 'tls.${key}'. Known: ca, rejectUnauthorized`);
    }
    if (options.tls.ca !== undefined) tlsConfig.caFile = caFile(options.tls.ca);
    if (options.tls.rejectUnauthorized !== undefined) {
      if (typeof options.tls.rejectUnauthorized !== 'boolean') {
        throw invalidArgument(
          `Expected tls.rejectUnauthorized to be a boolean but received ${describe(options.tls.rejectUnauthorized)}`,
        );
      }
      tlsConfig.rejectUnauthorized = options.tls.rejectUnauthorized;
    }
  }

  let maxEventBytes = 8 * 1024 * 1024;
  if (options.maxEventBytes !== undefined)
    maxEventBytes = checkInteger(options.maxEventBytes, 'maxEventBytes', { min: 1024, max: 2 ** 31 - 1 });

  // http2: true (default) negotiates HTTP/2 over TLS by ALPN, as the hosted
  // providers offer; 'prior-knowledge' speaks HTTP/2 over plain http:// with
  // no upgrade (h2c: local gateways, vLLM behind a proxy, the benchmarks).
  let http2PriorKnowledge = false;
  if (options.http2 !== undefined && options.http2 !== true) {
    if (options.http2 !== 'prior-knowledge') {
      throw invalidArgument(`Expected http2 to be true or 'prior-knowledge' but received ${describe(options.http2)}`);
    }
    http2PriorKnowledge = true;
  }

  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgument(`Expected signal to be an AbortSignal but received ${describe(signal)}`);
  }

  let url = options.url;
  if (url === undefined) {
    const base = (options.baseURL || envBase || spec.baseURL).replace(/\/+$/, '');
    url = base + spec.path(body, model);
  }
  const prepared = spec.prepare(body);
  const hasBody = !(provider === 'sse' && options.body === undefined);
  const headers = [];
  const userHeaders = headerLines(options.headers, 'headers');
  const userNames = new Set(userHeaders.map((line) => line.slice(0, line.indexOf(':')).toLowerCase()));
  const add = (line) => {
    if (!userNames.has(line.slice(0, line.indexOf(':')).toLowerCase())) headers.push(line);
  };
  if (apiKey !== undefined) spec.auth(apiKey).forEach(add);
  (spec.extraHeaders || []).forEach(add);
  add(`Accept: ${spec.accept}`);
  if (hasBody) add('Content-Type: application/json');
  headers.push(...userHeaders);

  // The native config (src/binding/config.cc reads every key, and refuses
  // a missing or mistyped one): the public names, defaults applied here.
  const config = {
    provider,
    request: {
      url,
      method: hasBody ? 'POST' : 'GET',
      body: hasBody ? serialize(prepared) : '',
      headers,
      http2PriorKnowledge,
    },
    tls: { caFile: tlsConfig.caFile || '', rejectUnauthorized: tlsConfig.rejectUnauthorized !== false },
    timeouts,
    retry,
    maxEventBytes,
    encoder: {
      // Identifies the answer in downstream formats that carry an id.
      responseId: responseId(),
      model: typeof model === 'string' ? model : '',
      created: Math.floor(Date.now() / 1000),
    },
    // Redacted on the worker from the error record and the in-band error
    // event (src/base/redact.h).
    secrets: secretsOf(apiKey, headers, url),
  };
  return { config, provider, signal, model: config.encoder.model };
}

module.exports = { normalize, DEFAULT_TIMEOUTS, DEFAULT_RETRY };

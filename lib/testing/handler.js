'use strict';

// One request, start to finish: read and record it, pick the scenario and the wire format, then send
// an error, a fixture, raw bytes or a generated stream. Works on node:http and node:http2
// compatibility request/response objects alike.

const http2 = require('node:http2');
const { FORMATS, resolveFormat } = require('./formats');
const { cutOf } = require('./scenario');
const { loadFixture, splitFrames } = require('./fixtures');
const { play, sleep } = require('./writer');

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

/**
 * Wraps a response so the writer does not care about HTTP versions, and tracks how it closed.
 * `signal` aborts when the response closes for any reason or the mock shuts down.
 */
function createSink(req, res, record, mockSignal) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const state = { endedByMock: false };
  if (mockSignal.aborted) abort();
  else mockSignal.addEventListener('abort', abort, { once: true });

  let resolveClosed;
  record.closed = new Promise((resolve) => {
    resolveClosed = resolve;
  });
  res.once('close', () => {
    mockSignal.removeEventListener('abort', abort);
    record.closedAt = Date.now();
    record.endedByClient = !state.endedByMock && !mockSignal.aborted;
    abort();
    resolveClosed();
  });

  return {
    signal: controller.signal,
    write(bytes) {
      if (controller.signal.aborted || res.destroyed) return Promise.resolve(false);
      return new Promise((resolve) => {
        const onAbort = () => resolve(false);
        controller.signal.addEventListener('abort', onAbort, { once: true });
        res.write(bytes, (err) => {
          controller.signal.removeEventListener('abort', onAbort);
          resolve(!err);
        });
      });
    },
    end(bytes) {
      if (controller.signal.aborted) return;
      state.endedByMock = true;
      res.end(bytes, () => {
        record.completed = true;
      });
    },
    reset() {
      if (controller.signal.aborted) return;
      state.endedByMock = true;
      if (res.stream) {
        // HTTP/2: reset this stream only, as a server does when a request fails mid-response.
        res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      const socket = req.socket;
      // resetAndDestroy() sends a TCP RST instead of a FIN, but only on a socket whose handle is TCP:
      // a TLS socket throws ERR_INVALID_HANDLE_TYPE, so reset the TCP socket beneath it (`_parent`,
      // undocumented, hence the fallback to a plain destroy).
      const tcp = typeof socket._parent === 'object' && socket._parent !== null ? socket._parent : socket;
      try {
        tcp.resetAndDestroy();
      } catch {
        // Fall through: a FIN is the closest remaining thing.
      }
      socket.destroy();
    },
    head(status, headers) {
      if (controller.signal.aborted) return;
      if (res.stream) {
        // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2); node throws on them.
        for (const name of HOP_BY_HOP) delete headers[name];
      }
      res.writeHead(status, headers);
      // Headers go out now; the first event may come ttftMs later.
      if (typeof res.flushHeaders === 'function') res.flushHeaders();
    },
  };
}

function readBody(req, signal) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onAbort = () => reject(new Error('request closed before its body was read'));
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}

function parseBody(buffer) {
  if (buffer.length === 0) return undefined;
  const text = buffer.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sendPlain(sink, status, contentType, body, extraHeaders = {}) {
  const bytes = Buffer.from(body);
  sink.head(status, { 'content-type': contentType, 'content-length': String(bytes.length), ...extraHeaders });
  sink.end(bytes);
}

const STREAM_ONLY =
  'llm-relay mock provider streams only: "stream": false is not supported. Send "stream": true, or leave it out for Ollama.';
const GEMINI_STREAM_ONLY =
  'llm-relay mock provider streams only: use POST /v1beta/models/{model}:streamGenerateContent?alt=sse.';

/**
 * Handles one request. `mock` provides options, the scenario source, the request log and the
 * shutdown signal.
 */
async function handleRequest(mock, req, res) {
  const url = new URL(req.url, 'http://mock.invalid');
  const record = {
    n: -1,
    method: req.method,
    path: req.url,
    headers: req.headers,
    body: undefined,
    httpVersion: req.httpVersion,
    provider: undefined,
    startedAt: Date.now(),
    closedAt: undefined,
    endedByClient: false,
    completed: false,
    closed: undefined,
    error: undefined,
  };
  const sink = createSink(req, res, record, mock.signal);

  let bodyBytes;
  try {
    bodyBytes = await readBody(req, sink.signal);
  } catch {
    return;
  }
  record.body = parseBody(bodyBytes);
  mock.record(record);

  let scenario;
  try {
    scenario = await mock.scenarioFor(record);
  } catch (err) {
    record.error = err.message;
    sendPlain(sink, 500, 'text/plain; charset=utf-8', `llm-relay mock provider: ${err.message}\n`);
    return;
  }

  let fixture;
  if (scenario.fixture !== undefined) {
    try {
      fixture = await loadFixture(scenario.fixture, mock.fixturesDir);
    } catch (err) {
      record.error = err.message;
      sendPlain(sink, 500, 'text/plain; charset=utf-8', `llm-relay mock provider: ${err.message}\n`);
      return;
    }
  }

  const forced =
    scenario.provider || (fixture && FORMATS[fixture.provider] ? fixture.provider : undefined) || mock.provider;
  const target = resolveFormat(url.pathname, forced);
  const format = FORMATS[target.provider];
  record.provider = target.provider;
  const body = record.body && typeof record.body === 'object' ? record.body : {};
  const ctx = {
    scenario,
    request: record,
    model:
      scenario.model ||
      target.model ||
      (typeof body.model === 'string' ? body.model : undefined) ||
      format.defaultModel,
    created: Math.floor(Date.now() / 1000),
    variant: target.variant,
    omitEndMarker: scenario.omitEndMarker,
    complete: !cutOf(scenario) && !scenario.omitEndMarker,
    state: {},
  };

  if (scenario.hang) return; // Accept and never answer: the request ends when the client or the mock closes it.

  const recorded = fixture !== undefined || scenario.raw !== undefined;
  const scriptedError = !recorded && scenario.status !== undefined && scenario.status >= 300;
  if (scriptedError && scenario.ttftMs > 0 && !(await sleep(scenario.ttftMs, sink.signal))) return;
  if (scriptedError) {
    const headers = { ...format.responseHeaders(ctx), ...scenario.headers };
    if (scenario.errorBody !== undefined) {
      const text = typeof scenario.errorBody === 'string' ? scenario.errorBody : JSON.stringify(scenario.errorBody);
      sendPlain(sink, scenario.status, scenario.contentType || 'application/json', text, headers);
    } else {
      const { contentType, body: text } = format.errorBody(scenario.status, ctx, undefined, scenario.headers);
      sendPlain(sink, scenario.status, scenario.contentType || contentType, text, headers);
    }
    return;
  }

  // Checked after the scripted status so a scripted 429 still answers a request of any shape.
  if (!recorded) {
    if (body.stream === false) {
      const { contentType, body: text } = format.errorBody(400, ctx, STREAM_ONLY);
      sendPlain(sink, 400, contentType, text);
      return;
    }
    const geminiNotSse =
      target.method === 'generateContent' ||
      (target.method === 'streamGenerateContent' && url.searchParams.get('alt') !== 'sse');
    if (target.provider === 'gemini' && geminiNotSse) {
      const { contentType, body: text } = format.errorBody(400, ctx, GEMINI_STREAM_ONLY);
      sendPlain(sink, 400, contentType, text);
      return;
    }
  }

  let status = scenario.status === undefined ? 200 : scenario.status;
  let contentType = scenario.contentType || format.contentType;
  let headers = { ...format.responseHeaders(ctx) };
  let frames;
  const cut = cutOf(scenario);
  const err = scenario.midStreamError || {};

  try {
    if (recorded) {
      if (fixture) {
        if (scenario.status === undefined) status = fixture.status;
        contentType = scenario.contentType || fixture.contentType;
        headers = { ...fixture.headers };
      }
      frames = splitFrames(fixture ? fixture.bytes : scenario.raw, contentType);
      if (cut) frames = frames.slice(0, cut.after === undefined ? frames.length : cut.after);
      if (cut && cut.action === 'error') {
        ctx.emitted = frames.length;
        frames.push(...format.errorEvents(ctx, err).map((e) => Buffer.from(e)));
      }
    } else {
      frames = generateFrames(format, ctx, cut, err);
    }
  } catch (error) {
    record.error = error.message;
    sendPlain(sink, 500, 'text/plain; charset=utf-8', `llm-relay mock provider: ${error.message}\n`);
    return;
  }

  sink.head(status, { ...headers, 'content-type': contentType, ...scenario.headers });
  const action = cut && cut.action !== 'error' ? cut.action : 'end';
  await play(sink, frames, scenario, format.ping, action);
}

/**
 * Runs the format's event generator and cuts it after the chosen number of content events.
 * "After n content events" means: everything up to and including the nth event that carries text,
 * reasoning or a tool-call fragment, and nothing after it (after 0: only the opening events).
 */
function generateFrames(format, ctx, cut, err) {
  const frames = [];
  let after;
  if (cut) {
    // Count on a throwaway state so the real run's sequence numbers stay contiguous.
    let total = 0;
    for (const ev of format.events({ ...ctx, state: {} })) if (ev.content) total++;
    after = cut.after === undefined ? total : Math.min(cut.after, total);
    // Without any content event there are no "opening events" to tell apart from the finish.
    if (total === 0) after = -1;
  }
  let seen = 0;
  for (const ev of after === -1 ? [] : format.events(ctx)) {
    if (after !== undefined && seen === after && (after > 0 || ev.content)) break;
    frames.push(Buffer.from(ev.data));
    if (ev.content) seen++;
  }
  if (cut && cut.action === 'error') {
    ctx.emitted = frames.length;
    for (const e of format.errorEvents(ctx, err)) frames.push(Buffer.from(e));
  }
  return frames;
}

module.exports = { handleRequest, generateFrames };

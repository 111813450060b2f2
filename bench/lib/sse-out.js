'use strict';
// The downstream format every peer relays, byte for byte what llm-relay's
// pipe(res, { format: 'sse' }) writes (the README's "Relaying to the browser"):
//   data: {"type":"text","text":"…"}\n\n   per delta
//   data: {"type":"finish","reason":"stop","raw":"stop"}\n\n
//   data: [DONE]\n\n
// One helper for all JS peers, so a difference between peers is the SDK's, not ours.

const HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

const FINISH = {
  stop: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  length: 'length',
  max_tokens: 'length',
  tool_calls: 'tool-calls',
  tool_use: 'tool-calls',
  'tool-calls': 'tool-calls',
  content_filter: 'content-filter',
  'content-filter': 'content-filter',
};

function textEvent(text) {
  return `data: {"type":"text","text":${JSON.stringify(text)}}\n\n`;
}

function finishEvent(raw) {
  const reason = FINISH[raw] || 'other';
  return `data: {"type":"finish","reason":"${reason}","raw":${JSON.stringify(raw == null ? null : String(raw))}}\n\n`;
}

class SseOut {
  constructor(res) {
    this.res = res;
    this.closed = false;
    res.on('close', () => {
      this.closed = true;
    });
  }

  head() {
    this.res.writeHead(200, HEADERS);
    this.res.flushHeaders();
  }

  /** Writes one text delta; returns a promise only when the socket asks us to wait. */
  text(text) {
    if (this.closed) return undefined;
    if (this.res.write(textEvent(text))) return undefined;
    return this.drain();
  }

  raw(chunk) {
    if (this.closed) return undefined;
    if (this.res.write(chunk)) return undefined;
    return this.drain();
  }

  drain() {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  finish(raw) {
    if (this.closed) return;
    this.res.end(`${finishEvent(raw)}data: [DONE]\n\n`);
  }

  /** An error after the 200: an `event: error` frame, then the end (the README's error formats). */
  error(err) {
    if (this.closed || this.res.writableEnded) return;
    if (!this.res.headersSent) {
      this.res.writeHead(502, { 'Content-Type': 'application/json' });
      this.res.end(JSON.stringify({ code: 'UPSTREAM', message: String(err && err.message) }));
      return;
    }
    const body = JSON.stringify({ code: 'UPSTREAM', message: String(err && err.message) });
    this.res.end(`event: error\ndata: ${body}\n\n`);
  }
}

/** An AbortController aborted when the downstream client goes away early. */
function abortOnClose(res) {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac;
}

module.exports = { SseOut, abortOnClose, textEvent, finishEvent, HEADERS, FINISH };

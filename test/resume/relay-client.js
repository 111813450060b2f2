'use strict';

// A client for the resumable relay tests: reads a streamed response and can
// leave after the N-th event that carries an id, as a client whose
// connection drops would. What it "had" is every byte up to the end of that
// event; its Last-Event-ID is that event's id.

const http = require('node:http');

/**
 * @param {string} url
 * @param {{ method?: string, headers?: object, body?: string, leaveAfterIds?: number, onHead?: (headers: object) => void }} [options]
 * @returns {Promise<{ status: number, headers: object, text: string, lastId: string | undefined, left: boolean }>}
 */
function readEvents(url, options = {}) {
  const { method = 'GET', headers = {}, body, leaveAfterIds, onHead } = options;
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, agent: false },
      (res) => {
        let text = '';
        let done = false;
        if (onHead) onHead(res.headers);
        const finish = (left) => {
          if (done) return;
          done = true;
          resolve({ status: res.statusCode, headers: res.headers, text, lastId: lastIdOf(text), left });
        };
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          if (done) return;
          text += chunk;
          if (leaveAfterIds === undefined) return;
          const cut = cutAfterIds(text, leaveAfterIds);
          if (cut === -1) return;
          text = text.slice(0, cut);
          finish(true);
          req.destroy();
        });
        res.on('end', () => finish(false));
        res.on('error', () => finish(true));
        res.on('close', () => finish(true));
      },
    );
    req.on('error', (err) => reject(err));
    req.end(body);
  });
}

/** The index just after the n-th event that carries an `id:` line, or -1. */
function cutAfterIds(text, n) {
  const re = /\nid: \d+\n\n/g;
  let count = 0;
  let m;
  while ((m = re.exec(text))) {
    if (++count === n) return m.index + m[0].length;
  }
  return -1;
}

function lastIdOf(text) {
  const ids = idsOf(text);
  return ids.length === 0 ? undefined : String(ids[ids.length - 1]);
}

/** Every event id in an SSE body, in order. */
function idsOf(text) {
  return [...text.matchAll(/\nid: (\d+)\n\n/g)].map((m) => Number(m[1]));
}

/** The text of the `text` deltas of an `sse` body. */
function textOf(sseBody) {
  let out = '';
  for (const m of sseBody.matchAll(/^data: (\{.*\})$/gm)) {
    const d = JSON.parse(m[1]);
    if (d.type === 'text') out += d.text;
  }
  return out;
}

module.exports = { readEvents, cutAfterIds, idsOf, textOf };
